"""The training engine: the command line (LightningCLI: cli.py, its help: cli_help.py), configs merged in
code (config.py), the one training call (train.py), a run's loggers, record and resumption (loggers.py,
run_record.py, resume.py), checkpoints saved safely (checkpoints.py), the precision chosen for the hardware
(precision.py) and the cache that never trains the same run twice (run_cache.py)."""
