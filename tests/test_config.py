"""Run configs merged in Python (lab/engine/config.py) the way successive --config files layer."""

import pytest

from lab.engine.config import compose, experiment_path, merge, nested
from lab.utils.errors import LabError


def test_merge_updates_key_by_key_and_never_modifies_its_inputs():
    base = {"model": {"optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.05, "momentum": 0.9}}}}
    change = {"model": {"optimizer": {"init_args": {"lr": 0.01}}}, "trainer": {"max_epochs": 3}}
    merged = merge(base, change)
    assert merged["model"]["optimizer"] == {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.01, "momentum": 0.9}}
    assert merged["trainer"] == {"max_epochs": 3} and base["model"]["optimizer"]["init_args"]["lr"] == 0.05


def test_a_new_class_path_replaces_the_whole_block():
    base = {"optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.05, "momentum": 0.9}}}
    merged = merge(base, {"optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 3e-4}}})
    assert merged["optimizer"] == {"class_path": "torch.optim.Adam", "init_args": {"lr": 3e-4}}  # no SGD momentum


def test_compose_layers_experiments_paths_and_dicts_in_order(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("trainer:\n  max_epochs: 2\n")
    config = compose(["lenet", extra, {"trainer": {"max_epochs": 5}, "seed_everything": 3}])
    assert config["model"]["net"]["class_path"] == "lab.models.ConvNet"
    assert config["trainer"]["max_epochs"] == 5 and config["seed_everything"] == 3


def test_unknown_experiments_name_the_ones_there_are(tmp_path):
    with pytest.raises(LabError, match="no experiment named 'lenett'.*lenet"):
        experiment_path("lenett")
    with pytest.raises(LabError, match="not found"):
        experiment_path(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(LabError, match="must be a mapping"):
        compose([tmp_path / "list.yaml"])


def test_dotted_keys_become_nested_dicts():
    assert nested({"a.b.c": 1, "a.d": 2}) == {"a": {"b": {"c": 1}, "d": 2}}
