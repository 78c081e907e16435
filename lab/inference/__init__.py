"""Trained networks at work: the one loader of trained networks with their data record (load.py) and
predictions for your own images (predict.py, ``make predict``)."""
