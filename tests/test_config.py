"""Run configs merged in Python (lab/engine/config.py) the way successive --config files layer."""

import pytest
import yaml

from lab.engine.cli import main
from lab.engine.config import compose, experiment_path, load_layer, merge, nested
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


# what each shorter budget changes in best.yaml: epochs, TimeToAccuracy thresholds, Lookahead's first epoch, widths
FAST = {"fast90": (3, [0.80, 0.85], 1, [48, 192, 192]), "fast360": (6, [0.85, 0.90], 2, [64, 256, 256])}


def _repeated(base: dict, overlay: dict, path: tuple = ()) -> list[str]:
    """The settings of ``overlay`` that repeat ``base`` (a class_path names its block: not a setting)."""
    found = []
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            found += _repeated(base[key], value, (*path, key))
        elif key != "class_path" and key in base and base[key] == value:
            found.append(".".join((*path, key)))
    return found


@pytest.mark.parametrize("overlay", FAST)
def test_the_fast_budgets_are_best_yaml_with_only_their_changes(overlay):
    epochs, thresholds, start, widths = FAST[overlay]
    expected = compose(["best"])
    expected["trainer"]["max_epochs"], expected["model"]["net"]["init_args"]["widths"] = epochs, widths
    timer, _, lookahead = expected["trainer"]["callbacks"]
    timer["init_args"]["thresholds"], lookahead["init_args"]["start_epoch"] = thresholds, start
    assert compose(["best", overlay]) == expected
    assert _repeated(load_layer("best"), load_layer(overlay)) == []  # an overlay states only what differs


def _printed(capsys, *configs) -> dict:
    """What `lab fit --config ... --print_config` resolves, less the list of config files."""
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *(arg for config in configs for arg in ("--config", str(config))), "--print_config"])
    assert exit_info.value.code == 0
    return {k: v for k, v in yaml.safe_load(capsys.readouterr().out).items() if k != "config"}


@pytest.mark.parametrize("overlay", FAST)
def test_the_command_line_layers_an_overlay_as_compose_does(overlay, capsys, tmp_path):
    composed = tmp_path / "composed.yaml"
    composed.write_text(yaml.safe_dump(compose(["best", overlay])))
    layered = _printed(capsys, "experiments/best.yaml", f"experiments/{overlay}.yaml")
    assert layered == _printed(capsys, composed) and layered["trainer"]["max_epochs"] == FAST[overlay][0]
