"""lab: a PyTorch Lightning framework that answers two CNN image-classification courseworks.

Its packages are layers, bottom to top; each imports only its own and the ones above it in this list
(tests/test_layers.py checks it):

    utils/         console output, errors, where data and the repository are, benchmark results
    schedules.py   learning-rate schedules (configs name them lab.schedules.*)
    numpy_bn/      batch norm and a toy MLP in NumPy
    models/        the networks (lab.models.*), the ClassifierModule that trains them and its loss, trained
                   networks as files hold them (pretrained.py), a new head on a pretrained body (head.py)
    callbacks/     Lightning callbacks (lab.callbacks.*)
    data/          datasets decoded once into memory, batched augmentation, the one input transform
    blocks.py      the report's vocabulary: Text, Table, Figure
    viz/           figures
    inference/     the one loader of trained networks, predictions for your own images
    engine/        the command line, the one training call, run folders and loggers, resume, the run cache
    questions/     one module per coursework question, their runner and their shared training
    report/        the results as documents: the report, its pages, the published copy, README's table
"""

__version__ = "0.2.0"  # the one source: pyproject.toml reads it
