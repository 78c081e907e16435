"""The report and README's questions table, built from tiny results of a few questions (the rest
missing), a question registered at runtime, and conclusions that follow the numbers."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml

from lab.blocks import Table, Text, markdown_table
from lab.questions import REGISTRY, Question, questions, register
from lab.questions.results import latest, load
from lab.report.build import write_report
from lab.report.readme import refresh
from tests.conftest import SMOKE


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory, tiny_data):
    """results/ with bn, architectures, hparams (one factor), deeper (1 seed) and compare_nets."""
    from lab.questions.runner import main

    root = tmp_path_factory.mktemp("report")
    config = root / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "trainer": {"accelerator": "cpu", "enable_progress_bar": False},
                "data": {"init_args": {"data_dir": str(tiny_data), "val_size": 20, "download": False}},
                "run": {"root": str(root / "runs"), "wandb": "disabled"},
            }
        )
    )
    args = [
        "--config",
        str(config),
        "--config",
        str(SMOKE),
        "--results",
        str(root / "results"),
        "--seeds",
        "1",
        "--workers",
        "1",
    ]
    by_name = {q.name: q for q in questions()}
    main(by_name["bn"], ["--iterations", "5", *args])
    main(by_name["architectures"], args)
    main(by_name["hparams"], ["--factors", "batch norm", *args])
    main(by_name["deeper"], args)
    main(by_name["compare_nets"], args)
    return root / "results"


def _table_after(report: str, title: str) -> str:
    """The Markdown table that follows the caption line "**Table N. <title>..."."""
    start = re.search(rf"^\*\*Table \d+\. {re.escape(title)}", report, re.M).start()
    lines = report[start:].splitlines()[2:]
    return "\n".join(line for line in lines[: next(i for i, ln in enumerate(lines) if not ln.startswith("|"))])


def _rows(table: str) -> list[list[str]]:
    return [[c.strip().replace("**", "") for c in ln.strip().strip("|").split("|")] for ln in table.splitlines()[2:]]


def test_report_has_every_section_numbered_and_lists_missing(smoke_results):
    md, page, missing_count = write_report(smoke_results)
    report = md.read_text()
    headings = re.findall(r"^## (\d+)\. (.+) \(", report, re.M)
    assert [int(n) for n, _ in headings] == list(range(1, len(questions()) + 1))
    assert [t for _, t in headings] == [q.title for q in questions()]
    missing = report.split("## Missing results", 1)[1]
    for q in questions():
        assert (q.command in missing) != (latest(q.name, smoke_results) is not None), q.name  # listed iff absent
    assert missing_count == sum(1 for line in missing.splitlines() if line.startswith("- "))
    figures = re.findall(r"^\*\*Figure (\d+)[ .(]", report, re.M)
    tables = re.findall(r"^\*\*Table (\d+)\. ", report, re.M)
    assert figures == [str(i) for i in range(1, len(figures) + 1)] and len(figures) >= 5
    assert tables == [str(i) for i in range(1, len(tables) + 1)] and len(tables) >= 4  # in reading order
    assert "## Appendix: full tables" in report and "Hyperparameter study" in report.split("## Appendix")[1]
    for rel in re.findall(r"!\[Figure \d+\]\(([^)]+)\)", report):
        assert (md.parent / rel).is_file(), rel
    assert "**Figure 1 (A2 Figure 1)." in report or "(A2 Figure 1)" in report  # the text's own label beside ours
    html = page.read_text()
    assert html.count('src="data:image/png;base64,') == len(figures) and "figure file missing" not in html
    assert "torch / lightning" in report and "git commit" in report
    assert (smoke_results / "pku" / "bn_loss.txt").is_file()  # A2's results files, gathered
    present = [q for q in questions() if latest(q.name, smoke_results) is not None]
    assert report.count("**SMOKE run (SMOKE=1):") == len(present) == 5  # every tiny answer is marked


def test_quick_answers_are_marked_and_full_ones_are_not(tmp_path):
    import json

    from lab.report.build import budget_note

    for name, quick in (("quick", True), ("full", False)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps({"quick": quick, "configs": []}))
    assert budget_note(tmp_path / "quick")[0].startswith("**Quick run (QUICK=1): one seed")
    assert budget_note(tmp_path / "full") == [] and budget_note(None) == []


def test_report_numbers_equal_the_run_files(smoke_results):
    from lab.questions.deeper import DeeperResult
    from lab.questions.hparams import HparamsResult

    report = write_report(smoke_results)[0].read_text()
    study = load(HparamsResult, latest("hparams", smoke_results))
    rows = _rows(_table_after(report, "Hyperparameter study"))
    assert len(rows) == len(study.rows)
    for cells, row in zip(rows, study.rows):
        assert cells[0] == row.network and cells[3] == f"{100 * row.run.val_acc:.2f}"
        assert cells[4] == f"{100 * row.run.test_acc:.2f}" and cells[8] == f"{row.run.parameters:,}"
        assert cells[5] == f"{100 * row.run.last['train_eval/acc']:.1f}"  # the training-accuracy diagnostic
    deeper = load(DeeperResult, latest("deeper", smoke_results))
    cells = _rows(_table_after(report, "Original vs +2 layers"))
    assert [c[4].split(" ± ")[0] for c in cells] == [f"{100 * v.test.mean:.2f}" for v in deeper.variants]
    bn = load(REGISTRY["bn"].result_type, latest("bn", smoke_results))
    assert f"{bn.train_loss[-1]:.6f} at iteration {len(bn.train_loss)}" in report
    assert "10164" in report  # the F6 answer, from the architectures result


def test_readme_table_lists_every_question_with_its_latest_result(smoke_results):
    readme = "intro\n<!-- questions -->\nold table\n<!-- /questions -->\ntail\n"
    text = refresh(readme, smoke_results)
    assert "old table" not in text and text.startswith("intro\n") and text.endswith("tail\n")
    rows = [ln for ln in text.splitlines() if ln.startswith("| `make ")]
    assert [r.split("`")[1] for r in rows] == [q.command for q in questions()]
    assert sum("not run yet" in r for r in rows) == sum(latest(q.name, smoke_results) is None for q in questions())
    bn = next(r for r in rows if r.startswith("| `make bn`"))
    result = load(REGISTRY["bn"].result_type, latest("bn", smoke_results))
    assert REGISTRY["bn"].headline(result) in bn
    with pytest.raises(ValueError, match="questions"):
        refresh("no markers here", smoke_results)


def test_every_key_a_question_reads_in_another_ones_result_is_there(smoke_results):
    """Readers find networks and variants by the constants their producers export: a label renamed in the
    producer fails here, not as a section that silently says "Missing"."""
    from lab.questions import augment, compare_nets, finetune, hparams
    from lab.questions.deeper import MORE_FC, ORIGINAL, WIDER

    study = load(REGISTRY["hparams"].result_type, latest("hparams", smoke_results))
    assert set(hparams.NETWORKS) <= set(study.best)  # compare_nets, final, deeper, pretrain, robustness
    deeper = load(REGISTRY["deeper"].result_type, latest("deeper", smoke_results))
    read = [(hparams.TWOLAYER, ORIGINAL), (hparams.TWOLAYER, MORE_FC), (hparams.CONVNET, WIDER)]  # + robustness's
    read += [(hparams.CONVNET, label) for label in (*compare_nets.DEPTH, *compare_nets.WIDTH)]
    assert all(deeper.has(network, label) for network, label in read), read
    assert {augment.PLAIN, augment.TRAINED} <= set(augment.TRAINING)  # robustness; one variant per key
    assert finetune.FULL in finetune.VARIANTS  # finetune_bonus; one variant per key


@dataclass
class _Answer:
    value: float


@pytest.fixture
def extra_question():
    """A tiny question, registered at runtime with its callables: what adding a question takes."""
    question = register(
        Question(
            "extra_question",
            "An extra question",
            "A2",
            "task 9",
            order=999,
            result_type=_Answer,
            asks="What is it?",
            run=lambda args, out: _Answer(42.0),
            render=lambda result, folder: [
                Text(f"The answer is {result.value:g}."),
                Table("Answer", markdown_table(["x"], [[result.value]]), "One row."),
            ],
            headline=lambda result: f"answer {result.value:g}",
        )
    )
    yield question
    REGISTRY.pop("extra_question")


def test_a_question_registered_at_runtime_appears_everywhere(smoke_results, extra_question, capsys):
    from lab.questions.__main__ import list_targets
    from lab.questions.runner import main

    main(extra_question, ["--results", str(smoke_results)])
    list_targets()
    assert "extra-question" in capsys.readouterr().out  # make all's list and make help
    report = write_report(smoke_results)[0].read_text()
    assert f"## {len(questions())}. An extra question (A2 task 9)" in report and "The answer is 42." in report
    text = refresh("<!-- questions -->\n<!-- /questions -->\n", smoke_results)
    assert "| `make extra-question` | A2 task 9 | An extra question | answer 42 |" in text


def test_the_published_report_keeps_its_figures_as_files(smoke_results, tmp_path):
    md, _, _ = write_report(smoke_results, tmp_path / "docs", copy_figures=True)
    report = md.read_text()
    figures = re.findall(r"!\[Figure \d+\]\(([^)]+)\)", report)
    assert figures and all(rel.startswith("figures/") and (md.parent / rel).is_file() for rel in figures)


def test_large_published_figures_shrink_and_keep_their_pixels_small_ones_are_untouched(tmp_path):
    from PIL import Image

    from lab.report.publish import LARGE_FIGURE, compact_png

    noise = torch.Generator().manual_seed(0)
    photo = torch.randint(0, 256, (3, 600, 600), dtype=torch.uint8, generator=noise).permute(1, 2, 0).numpy()
    large, small = tmp_path / "large.png", tmp_path / "small.png"
    Image.fromarray(photo).save(large)
    Image.fromarray(photo[:64, :64]).save(small)
    before = {p: p.read_bytes() for p in (large, small)}
    assert len(before[large]) > LARGE_FIGURE
    compact_png(large), compact_png(small)
    assert large.stat().st_size < len(before[large]) / 2 and small.read_bytes() == before[small]
    with Image.open(large) as image:
        assert image.size == (600, 600) and image.mode == "P"


def test_pdf_pages_are_counted(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from lab.report.pages import count_pdf_pages

    path = tmp_path / "three.pdf"
    with PdfPages(path) as pdf:
        for _ in range(3):
            plt.figure(figsize=(8.27, 11.69))
            pdf.savefig()
            plt.close()
    assert count_pdf_pages(path.read_bytes()) == 3


def test_publish_refuses_incomplete_results_and_keeps_the_previous_report(smoke_results, tmp_path):
    from lab.report.publish import publish
    from lab.utils.errors import LabError

    target = tmp_path / "docs" / "report"
    target.mkdir(parents=True)
    (target / "REPORT.md").write_text("the previous report")
    with pytest.raises(LabError, match="not publishing: cifar10_classes has no complete result"):
        publish(smoke_results, target)
    assert (target / "REPORT.md").read_text() == "the previous report"  # nothing lost


def test_readme_benchmark_block_quotes_results_md(tmp_path):
    from lab.report.readme import benchmark_summary

    results = (
        "# Benchmark results\n\n<!-- bench:overhead -->\n## Lightning overhead\n\n| a | b |\n\n"
        "**Lightning / bare = 1.050x** (target <= 1.10x).\n<!-- /bench:overhead -->\n\n"
        "<!-- bench:empty -->\n## Nothing bold\n<!-- /bench:empty -->\n"
        "<!-- bench:make_all -->\n## make all\n\n| `make bn` | 1 | 0.0 | 2 |\n"
        "| **all questions** | **4874** | **81.2** | |\n<!-- /bench:make_all -->\n"
        "<!-- bench:make_all_quick -->\n## make all QUICK=1\n\n"
        "| **all questions** | **581** | **9.7** | | **38** | **10** |\n<!-- /bench:make_all_quick -->\n"
    )
    text = benchmark_summary(results)
    assert text == (
        "- Lightning overhead: **Lightning / bare = 1.050x** (target <= 1.10x).\n"
        "- make all: **all questions: 4874 s (81.2 min)**\n"
        "- make all QUICK=1: **all questions: 581 s (9.7 min), 38 runs trained, 10 reused**\n"
    )
    readme = refresh(
        "<!-- questions -->\n<!-- /questions -->\n<!-- benchmarks -->\nold\n<!-- /benchmarks -->\n",
        tmp_path,
        bench=_write(tmp_path / "results.md", results),
    )
    assert "old" not in readme and "1.050x" in readme


def _write(path, text):
    path.write_text(text)
    return path


def test_documents_split_the_report_by_text_without_provenance(smoke_results, tmp_path, monkeypatch):
    from lab.report import documents

    monkeypatch.setattr(documents, "measure_pages", lambda html, out: 7)
    paths = documents.write_documents(smoke_results, tmp_path / "docs", copy_figures=True)
    cv1, a2 = paths["CV1.md"].read_text(), paths["A2.md"].read_text()
    assert "## 1. CIFAR-10 classes (§2.1)" in cv1 and "Batch normalization" not in cv1  # CV1 sections only
    assert "**7 pages** (the text allows 10)" in cv1 and paths["pages"] == 7
    assert "Draft from SMOKE runs" in cv1 and "Draft from SMOKE runs" in a2  # a draft says it is one
    present = [ln for ln in cv1.splitlines() if not ln.startswith("**Missing:**")]
    assert not [ln for ln in present if "make " in ln or "results/" in ln or "Made by" in ln]  # provenance: elsewhere
    assert "Hyperparameter study" in paths["APPENDIX.md"].read_text()  # the full study table
    assert "*Also in APPENDIX.md: Hyperparameter study, one factor changed at a time;" in cv1
    for doc in (cv1, a2, paths["APPENDIX.md"].read_text()):
        for rel in re.findall(r'<img src="([^"]+)"', doc):
            assert (tmp_path / "docs" / rel).is_file(), rel
    assert "## 1. Batch normalization in NumPy (task 1)" in a2 and "## Code: the hand-written pieces" in a2
    reproduce = paths["REPRODUCE.md"].read_text()
    commits = re.findall(r"^- `([0-9a-f]{12}|unknown)`", reproduce, re.M)
    assert commits and len(commits) == len(set(commits))  # each results commit named once
    assert "`make bn`" in reproduce and "`make architectures`" in reproduce
    assert '<img src="figures/' in paths["CV1.html"].read_text()  # printable page, figures beside it


def test_a2_listings_are_the_source():
    import inspect

    from lab.data import augment
    from lab.data.base import InMemoryImageDataModule
    from lab.models import cnn, losses
    from lab.models.module import ClassifierModule
    from lab.numpy_bn import bn
    from lab.report.a2 import code_part

    text = "\n".join(code_part())
    listed = [(bn, "batchnorm_backward"), (bn, "batchnorm_forward_train"), (bn, "batchnorm_forward_inference")]
    listed += [(losses, "cross_entropy"), (losses, "log_softmax"), (cnn, "CourseCNN"), (cnn, "ConvGroup")]
    listed += [(InMemoryImageDataModule, "prepare_batch"), (InMemoryImageDataModule, "on_after_batch_transfer")]
    listed += [(augment, "BatchAugment"), (augment, "random_translate"), (ClassifierModule, "training_step")]
    listed += [(ClassifierModule, "_loss"), (ClassifierModule, "evaluate")]
    for module, name in listed:
        assert f"```python\n{inspect.getsource(getattr(module, name)).rstrip()}\n```" in text, name
    line = inspect.getsourcelines(ClassifierModule.training_step)[1]
    assert f"*ClassifierModule.training_step* (lab/models/module.py, line {line}):" in text
    errors = re.search(r"relative error .*?: dx ([\d.e+-]+), dgamma ([\d.e+-]+), dbeta ([\d.e+-]+)\.", text)
    assert errors and all(float(e) < 1e-6 for e in errors.groups())
    rows = [ln for ln in text.splitlines() if ln.startswith("| 0") and "typical" in ln]
    assert len(rows) == 2 and all(float(r.split("|")[3]) < 1e-5 for r in rows)  # agrees with and without smoothing


def test_figures_are_sized_so_their_text_prints_at_six_points_or_more(tmp_path):
    from lab.report.documents import MIN_PRINTED_PT, TEXT_WIDTH_CM, figure_print_size, printed_width
    from lab.viz.style import figure, save

    fig, ax = figure(size=(7, 4.5))
    ax.set_title("t", fontsize=8)
    save(fig, tmp_path / "a.png", "a title")
    width_in, font = figure_print_size(tmp_path / "a.png")
    assert width_in == 7 and font == 8
    width, smallest = printed_width(width_in, font)
    assert smallest >= MIN_PRINTED_PT and width <= TEXT_WIDTH_CM
    too_wide, small = printed_width(40, 8)
    assert too_wide == TEXT_WIDTH_CM and small < MIN_PRINTED_PT  # said so in the document, not hidden


def test_cv1_page_statement_follows_the_measurement():
    from lab.report.documents import Printed, print_statement

    assert "**9 pages**" in print_statement(9, [Printed(1, 10.0, 6.5)])
    assert "Figures 2 fall below 6 pt" in print_statement(9, [Printed(1, 10.0, 6.5), Printed(2, 18.6, 4.0)])


def test_publish_refuses_a_dirty_tree_and_more_than_ten_pages(tmp_path):
    import subprocess

    from lab.report.documents import check_clean_tree, check_pages
    from lab.utils.errors import LabError

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    (repo / "code.py").write_text("x = 1\n")
    (repo / "README.md").write_text("r\n")
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "c"], cwd=repo, check=True)
    check_clean_tree(repo)
    (repo / "README.md").write_text("changed by make publish\n")
    check_clean_tree(repo)  # an output of make publish is not code
    (repo / "code.py").write_text("x = 2\n")
    with pytest.raises(LabError, match=r"uncommitted changes \(code.py\)"):
        check_clean_tree(repo)
    staging = tmp_path / "staging"
    staging.mkdir()
    check_pages(10, staging)
    with pytest.raises(LabError, match="prints on 11 A4 pages"):
        check_pages(11, staging)
    assert not staging.exists()


def test_a2_ships_lenna_as_given_and_both_augmented_versions(tmp_path):
    from lab.questions.augment import LENNA_FILES
    from lab.questions.results import point_latest
    from lab.report.documents import a2_files

    answer = tmp_path / "results" / "augment" / "20260101-000000"
    answer.mkdir(parents=True)
    for name in LENNA_FILES:
        (answer / name).write_bytes(name.encode())
    point_latest(answer)
    text = " ".join(a2_files(tmp_path / "results", tmp_path / "docs"))
    for name in LENNA_FILES:
        assert (tmp_path / "docs" / "a2" / name).read_bytes() == name.encode() and f"(a2/{name})" in text


def test_the_a2_document_numbers_the_texts_figures_as_the_text_does(tmp_path):
    from lab.blocks import Figure
    from lab.report.documents import TextNumbered

    png = tmp_path / "f.png"
    png.write_bytes(b"")
    numbered = TextNumbered(tmp_path, copy_figures=False)
    captions = [
        numbered.figure(Figure(png, t, "", label), "q")[2]
        for t, label in [("BN loss", "A2 Figure 1"), ("augmentation curves", ""), ("best", "A2 Figure 4")]
    ]
    assert captions[0].startswith("**Figure 1 (numbered as in the A2 text). BN loss.**")
    assert captions[1].startswith("**Figure S1. augmentation curves.**")
    assert captions[2].startswith("**Figure 4 (numbered as in the A2 text). best.**")


def test_the_a2_document_states_the_cifar10_split_it_used(tmp_path):
    from lab.questions.cifar10_classes import ClassesResult
    from lab.questions.results import point_latest, save
    from lab.report.documents import cifar10_split

    assert cifar10_split(tmp_path) == ""  # not run: nothing claimed
    folder = tmp_path / "cifar10_classes" / "20261130-000000"
    folder.mkdir(parents=True)
    sizes = {"train": 45000, "validation": 5000, "test": 1000}
    save(ClassesResult(["airplane"], [3, 32, 32], sizes, {"airplane": sizes}, [0.5] * 3, [0.2] * 3, {}), folder)
    point_latest(folder)
    assert "45,000 training and 5,000 validation images (a seeded split" in cifar10_split(tmp_path)
    assert "1,000 official test images" in cifar10_split(tmp_path)


def test_the_page_count_prints_a_report_under_a_relative_results_folder(tmp_path, monkeypatch):
    from lab.report import pages

    calls = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pages, "browser", lambda: "chromium")
    monkeypatch.setattr(pages.subprocess, "run", lambda argv, **kw: calls.append(argv))
    pages.print_to_pdf(Path("results/CV1.html"), Path("results/CV1.pdf"))
    assert calls[0][-1] == (tmp_path / "results" / "CV1.html").as_uri()


def test_a_figure_title_longer_than_its_figure_is_wrapped_not_cut(tmp_path):
    from lab.viz.style import figure, save

    fig, _ = figure(1, 1, size=(4, 3))
    long = "STL-10 subset, training images by class, at its native size (8 per class, 96 x 96 px)"
    save(fig, tmp_path / "f.png", long)
    assert fig._suptitle.get_text().count("\n") >= 1 and fig._suptitle.get_text().replace("\n", " ") == long
    fig, _ = figure(1, 1, size=(11, 3))
    save(fig, tmp_path / "g.png", long)
    assert "\n" not in fig._suptitle.get_text()
