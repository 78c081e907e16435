"""The report and the README sections, built from SMOKE results of a few questions (the rest missing)."""

import json
import re

import pytest

import lab.questions.common as common
from lab.report.build import write_report
from lab.report.readme import refresh
from lab.report.results import Results, table_rows
from lab.report.sections import SECTIONS


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory, tiny_cifar):
    """results/ with bn, architectures, hparams (one factor), deeper (1 seed) and compare_nets."""
    from lab.questions import architectures, bn, compare_nets, deeper, hparams

    root = tmp_path_factory.mktemp("report")
    patch = pytest.MonkeyPatch()
    patch.setattr(common, "RESULTS_ROOT", root / "results")
    patch.setenv("SMOKE", "1")
    args = [
        "--data.init_args.data_dir", str(tiny_cifar), "--data.init_args.val_size", "40",
        "--data.init_args.download", "false", "--trainer.accelerator", "cpu",
        "--trainer.enable_progress_bar", "false", "--run.root", str(root / "runs"), "--run.wandb", "disabled",
    ]  # fmt: skip
    try:
        bn.main(["--iterations", "5"])
        architectures.main([])
        hparams.main(["--factors", "batch norm", *args])
        deeper.main(["--seeds", "1", *args])
        compare_nets.main([])
    finally:
        patch.undo()
    return root / "results"


def _table_after(report: str, title: str) -> str:
    """The Markdown table that follows the caption line "**Table N. <title>..."."""
    start = re.search(rf"^\*\*Table \d+\. {re.escape(title)}", report, re.M).start()
    lines = report[start:].splitlines()[2:]
    return "\n".join(line for line in lines[: next(i for i, ln in enumerate(lines) if not ln.startswith("|"))])


def test_report_has_every_section_numbered_and_lists_missing(smoke_results):
    md, page, missing_count = write_report(smoke_results)
    report = md.read_text()
    headings = re.findall(r"^## (\d+)\. (.+) \(", report, re.M)
    assert [int(n) for n, _ in headings] == list(range(1, len(SECTIONS) + 1))
    assert [t for _, t in headings] == [s.title for s in SECTIONS]
    missing = report.split("## Missing results", 1)[1]
    for section in SECTIONS:
        present = all((smoke_results / q / "latest").exists() for q in section.questions)
        assert (section.command in missing) != present, section.title  # listed exactly when absent
    assert missing_count == sum(1 for line in missing.splitlines() if line.startswith("- "))
    # figures and tables numbered 1..n in order, every figure file exists
    figures = re.findall(r"^\*\*Figure (\d+)\. ", report, re.M)
    tables = re.findall(r"^\*\*Table (\d+)\. ", report, re.M)
    assert figures == [str(i) for i in range(1, len(figures) + 1)] and len(figures) >= 6
    assert tables == [str(i) for i in range(1, len(tables) + 1)] and len(tables) >= 4
    for rel in re.findall(r"!\[Figure \d+\]\(([^)]+)\)", report):
        assert (md.parent / rel).is_file(), rel
    html = page.read_text()
    assert html.count('src="data:image/png;base64,') == len(figures) and "figure file missing" not in html
    assert "torch / lightning" in report and "git commit" in report


def test_report_numbers_equal_the_run_files(smoke_results):
    report = write_report(smoke_results)[0].read_text()
    results = Results(smoke_results)
    study = results.load("hparams", "hparams.json")
    rows = table_rows(_table_after(report, "Hyperparameter study"))
    assert len(rows) == len(study["rows"])
    for cells, row in zip(rows, study["rows"]):
        assert cells[0] == row["network"] and cells[3] == f"{100 * row['val_acc']:.2f}"
        assert cells[4] == f"{100 * row['test_acc']:.2f}" and cells[7] == f"{row['parameters']:,}"
    deeper = results.load("deeper", "deeper.json")["rows"]
    cells = table_rows(_table_after(report, "Original vs +2 layers"))
    assert [c[4].split(" ± ")[0] for c in cells] == [f"{100 * r['test_acc_mean']:.2f}" for r in deeper]
    losses = results.load("bn", "bn.json")
    assert f"iteration {len(losses['train_loss'])}: {losses['train_loss'][-1]:.6f}" in report
    assert "10164" in report  # the F6 answer, from architectures.json


def test_readme_sections_refresh_from_results_and_keep_the_rest(smoke_results):
    names = ["classes", "architectures", "hparams", "deeper", "compare", "finetune", "bonus", "lr_curves", "augment"]
    readme = "intro\n" + "".join(f"<!-- results:{n} -->\nold {n}\n<!-- /results:{n} -->\ntail {n}\n" for n in names)
    text, skipped = refresh(readme, Results(smoke_results))
    assert skipped == ["classes", "finetune", "bonus", "lr_curves", "augment"]  # no results: left as they were
    assert "old classes" in text and "old hparams" not in text and "tail hparams" in text
    study = json.loads((smoke_results / "hparams" / "latest" / "hparams.json").read_text())
    assert f"{100 * study['rows'][0]['val_acc']:.2f}" in text.split("<!-- results:hparams -->")[1]
    with pytest.raises(ValueError, match="results:augment"):
        refresh(readme.replace("<!-- results:augment -->", ""), Results(smoke_results))
