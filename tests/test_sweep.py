"""experiments/sweep.yaml: the command a W&B agent builds from it parses with our CLI, for every value."""

import itertools

import pytest
import yaml

from lab.engine.cli import main
from lab.utils.paths import REPO_ROOT


def wandb_args(parameters: dict) -> list[str]:
    """What W&B's ${args} becomes: --<key>=<value>, Python's str() of each value (True, 0.005, ...)."""
    return [f"--{key}={value}" for key, value in parameters.items()]


def test_every_sweep_value_parses_with_the_cli(capsys):
    sweep = yaml.safe_load((REPO_ROOT / "experiments" / "sweep.yaml").read_text())
    command = sweep["command"]
    assert command[0] == "${env}" and command[-1] == "${args}" and command[1:4] == ["python", "-m", "lab"]
    keys = list(sweep["parameters"])
    options = [sweep["parameters"][k]["values"] for k in keys]
    trials = [dict(zip(keys, values)) for values in itertools.islice(itertools.product(*options), 0, None, 97)]
    trials.append({k: v[-1] for k, v in zip(keys, options)})
    for trial in trials:
        with pytest.raises(SystemExit) as exit_info:
            main([*command[4:-1], *wandb_args(trial), "--print_config"])
        assert exit_info.value.code == 0
        config = yaml.safe_load(capsys.readouterr().out)
        assert config["model"]["optimizer"]["init_args"]["lr"] == trial["model.optimizer.init_args.lr"]
        assert config["data"]["init_args"]["batch_size"] == trial["data.init_args.batch_size"]
        assert config["data"]["init_args"]["augment"]["flip"] is trial["data.init_args.augment.flip"]
        assert config["model"]["net"]["init_args"]["batch_norm"] is trial["model.net.init_args.batch_norm"]
        assert config["trainer"]["max_epochs"] == trial["trainer.max_epochs"]
    assert sweep["metric"]["name"] == "val/acc"  # a metric the runs log
