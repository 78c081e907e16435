"""Lightning DDP on the CPU (gloo): 2 processes (ddp_spawn), metrics aggregated across ranks."""

import csv

import pytest

from lab.engine.cli import main


def _last_logged(run_dir, column):
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    return [float(r[column]) for r in rows if r.get(column)][-1]


@pytest.mark.slow
def test_two_process_validation_equals_a_single_process_evaluation(tiny_config, tmp_path):
    common = [
        "--config",
        "experiments/lenet.yaml",
        "--config",
        str(tiny_config),
        "--data.init_args.val_size",
        "40",
        "--data.init_args.batch_size",
        "16",
        "--data.init_args.eval_batch_size",
        "8",
    ]
    main(
        [
            "fit",
            *common,
            "--run.name",
            "ddp",
            "--trainer.max_epochs",
            "2",
            "--trainer.strategy",
            "ddp_spawn",
            "--trainer.devices",
            "2",
        ]
    )
    run_dir = tmp_path / "runs" / "ddp" / "version_0"
    record = (run_dir / "run.json").read_text()
    assert '"devices": 2' in record and "DDPStrategy" in record
    ddp_val_acc = _last_logged(run_dir, "val/acc")

    main(
        [
            "validate",
            *common,
            "--run.name",
            "single",
            "--trainer.devices",
            "1",
            "--ckpt_path",
            str(run_dir / "checkpoints" / "last.ckpt"),
        ]
    )
    single_val_acc = _last_logged(tmp_path / "runs" / "single" / "version_0", "val/acc")
    # 40 validation images, 20 per rank: the mean over both ranks, not rank 0's 20 alone
    assert ddp_val_acc == pytest.approx(single_val_acc, abs=1e-6)
    assert round(single_val_acc * 40) == pytest.approx(single_val_acc * 40, abs=1e-4)
