from lab.report.build import main

main()
