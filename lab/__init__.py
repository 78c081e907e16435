"""lab: a PyTorch Lightning framework that answers two CNN image-classification courseworks."""

__version__ = "0.2.0"  # the one source: pyproject.toml reads it
