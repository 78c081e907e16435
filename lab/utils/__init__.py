"""What every layer uses and that uses nothing else of lab: console output (console.py), errors a user can
act on (errors.py), where data and the repository are (paths.py), benchmark results (bench_results.py)."""
