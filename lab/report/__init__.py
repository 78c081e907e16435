"""The written report: every question's latest results gathered into results/REPORT.md and a
self-contained REPORT.html (``make report``), and the README's result sections (``make readme``)."""
