"""``python -m lab.report``: see lab/report/build.py."""

from lab.report.build import main

main()
