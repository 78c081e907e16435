"""The precision a run trains in when its config does not say, chosen from the hardware (faked here)."""

import pytest

from lab.engine.precision import choose_precision, cpu_flags


@pytest.mark.parametrize(
    "flags, expected",
    [
        ({"avx2", "avx512f", "avx512_bf16"}, "bf16-mixed"),
        ({"avx2", "amx_bf16", "amx_tile"}, "bf16-mixed"),
        ({"avx2", "avx512f"}, "32-true"),
        (set(), "32-true"),
    ],
)
def test_cpu_uses_bf16_only_where_it_is_native(flags, expected):
    assert choose_precision("cpu", flags=flags) == expected


@pytest.mark.parametrize("gpu_bf16, expected", [(True, "bf16-mixed"), (False, "16-mixed")])
def test_gpus_use_bf16_where_they_have_it_else_fp16(gpu_bf16, expected):
    assert choose_precision("gpu", gpu_bf16=gpu_bf16) == expected


def test_auto_follows_whether_a_gpu_is_there(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_precision("auto", flags={"avx512_bf16"}) == "bf16-mixed"
    assert choose_precision("auto", flags=set()) == "32-true"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_precision("auto", flags=set(), gpu_bf16=False) == "16-mixed"


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512_bf16 amx_bf16\n")
    assert {"avx512_bf16", "amx_bf16"} <= cpu_flags(info)
    assert cpu_flags(tmp_path / "missing") == set()


def test_a_config_without_precision_gets_the_machines_choice_and_an_explicit_one_wins(tiny_config, tmp_path):
    from lab.engine.cli import run_cli

    args = ["fit", "--config", "experiments/lenet.yaml", "--config", str(tiny_config), "--trainer.fast_dev_run", "true"]
    chosen = choose_precision("cpu")
    assert run_cli(args).trainer.precision == chosen
    other = "32-true" if chosen == "bf16-mixed" else "bf16-mixed"
    assert run_cli([*args, "--trainer.precision", other]).trainer.precision == other
