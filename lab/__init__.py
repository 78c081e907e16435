"""lab: a PyTorch Lightning framework that answers two CNN image-classification courseworks."""

__version__ = "0.1.0"
