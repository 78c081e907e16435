"""``make predict CKPT=<checkpoint or run folder> IMAGES=<files or folders>``: a trained model's top-k
classes for your own images.

    python -m lab.inference.predict runs/lenet/version_0 photos/ cat.jpg [--top-k 3] [--out runs/predict]
    python -m lab.inference.predict checkpoints/convnet_cifar10.pt my_plane.png

Any PNG, JPEG, WebP, TIFF, BMP or GIF of any size and mode (16-bit and float gray scaled, transparency
composited over white: lab.data.images.to_rgb) is resized, antialiased, to the model's input size and
normalised with its training statistics; the class names and statistics come from the checkpoint, never
from the training data. Writes predictions.csv (path, then class and probability of each of the top k)
and predictions.png (each image with bars of its top 3) into a new folder under --out (runs/predict/,
beside the training runs, never the working tree itself), and prints where.
"""

from __future__ import annotations

import argparse
import csv
from datetime import datetime
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter

from lab.data.images import ImageFilesDataModule
from lab.inference.load import load_trained
from lab.utils import console


class PredictionsCSV(BasePredictionWriter):
    """predictions.csv: one row per image, its path then the top-k classes with their probabilities."""

    def __init__(self, path: Path, classes: list[str], top_k: int):
        super().__init__(write_interval="batch")
        self.path, self.classes, self.top_k = path, classes, min(top_k, len(classes))
        self.rows: list[tuple[Path, list[tuple[str, float]]]] = []

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        paths = trainer.datamodule.paths
        values, indices = prediction.topk(self.top_k, dim=1)
        for i, v, c in zip(batch[1].tolist(), values.tolist(), indices.tolist()):
            self.rows.append((paths[i], [(self.classes[k], p) for k, p in zip(c, v)]))

    def on_predict_end(self, trainer, pl_module) -> None:
        header = ["path"] + [f"{kind}_{k + 1}" for k in range(self.top_k) for kind in ("class", "probability")]
        with open(self.path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows([str(p), *(x for c, v in top for x in (c, f"{v:.4f}"))] for p, top in self.rows)


def predict(source: str | Path, paths: list[str], out: Path, top_k: int = 3) -> tuple[Path, list]:
    """Top-k predictions of the model at ``source`` for the images at ``paths``; returns the CSV and its rows."""
    trained = load_trained(source)
    data = ImageFilesDataModule(paths, trained.record)
    out.mkdir(parents=True, exist_ok=True)
    writer = PredictionsCSV(out / "predictions.csv", list(trained.record.classes), top_k)
    trainer = L.Trainer(
        accelerator="auto", logger=False, callbacks=[writer], enable_progress_bar=False, enable_model_summary=False
    )
    trainer.predict(trained.module, datamodule=data, return_predictions=False)
    from lab.viz.predictions import prediction_grid

    prediction_grid(data, writer.rows, out / "predictions.png", f"Predictions of {trained.source}")
    return writer.path, writer.rows


def main(argv: list[str] | None = None) -> None:
    console.setup()
    parser = argparse.ArgumentParser(prog="python -m lab.inference.predict", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a run folder (runs/<name>/version_N), a .ckpt, or a shipped .pt")
    parser.add_argument("images", nargs="+", help="image files and/or folders of them")
    parser.add_argument("--top-k", type=int, default=3, help="classes per image in the CSV (default 3)")
    parser.add_argument(
        "--out", type=Path, default=Path("runs") / "predict", help="parent of the output folder (default: runs/predict)"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    if args.top_k < 1:
        parser.error("--top-k must be >= 1")
    with console.user_errors(args.debug):
        out = args.out / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path, rows = predict(args.checkpoint, args.images, out, args.top_k)
    for image, top in rows:
        console.info(f"{image}: " + ", ".join(f"{c} {100 * p:.1f}%" for c, p in top))
    console.info(f"[lab] {len(rows)} image(s) -> {out}/: {path.name} and predictions.png")


if __name__ == "__main__":
    main()
