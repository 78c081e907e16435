"""CV1 §2.4 as a researcher answers it: one shared recipe, bracketed sweeps, explanations chosen by
measured diagnostics, additivity of combined winners, deeper nets judged by their training accuracy,
finals checked against every other variant. Made-up results, reversed, must change the words."""

import math
import re

from lab.engine.config import compose
from lab.questions.stats import Spread
from lab.questions.training import RunSummary, Variant


def _run(val, train=None, first_loss=2.0, parameters=1000, seed=0):
    last = {"epoch": 5, "val/acc": val, **({"train_eval/acc": train} if train is not None else {})}
    folder = f"runs/{val}/seed{seed}"
    return RunSummary(
        seed, val, val, 6, 1.0, folder, parameters, history=[{"epoch": 0, "train/loss": first_loss}, last]
    )


def test_both_networks_share_one_recipe_and_differ_only_in_the_network():
    mlp, cnn = compose(["twolayer"]), compose(["lenet"])
    assert mlp["model"]["net"] != cnn["model"]["net"]
    for config in (mlp, cnn):
        config["model"].pop("net")
    assert mlp == cnn  # optimizer, schedule, augmentation, batch size, budget
    assert mlp["model"]["optimizer"]["init_args"]["nesterov"] and mlp["data"]["init_args"]["train_eval_size"] == 5000


def test_adam_keeps_the_schedule_of_its_sgd_counterpart():
    import yaml

    from lab.engine.config import EXPERIMENTS

    study = yaml.safe_load((EXPERIMENTS / "hparams_study.yaml").read_text())
    for change in study["factors"]["optimizer"].values():
        assert "lr_scheduler" not in change["model"]  # the optimizer is the only change


def test_an_interior_best_is_reported_as_interior_and_an_edge_best_is_flagged():
    from lab.questions.hparams import bracket

    assert bracket([(0.01, 0.50), (0.03, 0.60), (0.1, 0.55), (0.3, math.nan)]) == ("interior", 0.03)
    assert bracket([(0.01, 0.50), (0.03, 0.55), (0.1, 0.60)]) == ("upper edge", 0.1)
    assert bracket([(0.01, 0.60), (0.03, 0.55), (0.1, 0.50)]) == ("lower edge", 0.01)
    assert bracket([(0.01, 0.50), (0.03, 0.60), (0.1, math.nan)])[0] == "interior"  # diverged counts as lower


def _study(rows, network="ConvNet", std=0.005):
    from lab.questions.hparams import HparamsResult

    return HparamsResult(6, {network: "lenet"}, rows, {network: 0}, {network: Spread(rows[0].val_acc, std, 3)}, {})


def _row(factor, value, run, network="ConvNet"):
    from lab.questions.hparams import StudyRow

    return StudyRow(network, factor, value, {}, run)


def test_the_bracket_sentence_follows_the_sweep():
    from lab.questions.hparams import bracket_sentence

    interior = [
        _row("base", "-", _run(0.6)),
        _row("learning rate", "0.01", _run(0.5)),
        _row("learning rate", "0.05", _run(0.6)),
        _row("learning rate", "0.5", None),
    ]
    assert "0.05 is interior" in bracket_sentence(_study(interior), "ConvNet")
    edge = [
        _row("base", "-", _run(0.6)),
        _row("learning rate", "0.01", _run(0.5)),
        _row("learning rate", "0.05", _run(0.6)),
        _row("learning rate", "0.5", _run(0.7)),
    ]
    assert "upper edge" in bracket_sentence(_study(edge), "ConvNet") and "not bracketed" in bracket_sentence(
        _study(edge), "ConvNet"
    )


def test_the_mechanism_is_chosen_by_the_diagnostics_and_reverses_with_them():
    from lab.questions.hparams import Diagnosis, mechanism

    base = Diagnosis(0.60, 0.55, 2.0, 1000)
    assert "fits the training set better" in mechanism(base, Diagnosis(0.70, 0.60, 2.0, 1000))
    assert "regularises" in mechanism(base, Diagnosis(0.58, 0.58, 2.0, 1000))
    assert "under-fits" in mechanism(base, Diagnosis(0.50, 0.50, 2.0, 1000))
    assert "over-fits" in mechanism(base, Diagnosis(0.75, 0.50, 2.0, 1000))
    assert "starts faster" in mechanism(base, Diagnosis(0.70, 0.60, 1.5, 1000))
    assert "starts slower" in mechanism(base, Diagnosis(0.70, 0.60, 2.5, 1000))
    assert "1,000 -> 4,000 parameters" in mechanism(base, Diagnosis(0.70, 0.60, 2.0, 4000))


def test_two_networks_with_different_diagnostics_get_different_explanations():
    from lab.questions.hparams import factor_sentence

    def study(train_base, train_alt):
        rows = [_row("base", "-", _run(0.55, train_base)), _row("optimizer", "adam", _run(0.62, train_alt))]
        return _study(rows)

    fits = factor_sentence(study(0.60, 0.75), "ConvNet", "optimizer")
    regularises = factor_sentence(study(0.75, 0.62), "ConvNet", "optimizer")
    assert "fits the training set better" in fits and "regularises" in regularises
    assert fits.split("Why")[1] != regularises.split("Why")[1]


def test_a_null_regulariser_is_explained_by_the_base_gap():
    from lab.questions.hparams import factor_sentence

    def study(train):
        return _study([_row("base", "-", _run(0.600, train)), _row("weight decay", "0", _run(0.602, train))])

    assert "barely over-fits" in factor_sentence(study(0.61), "ConvNet", "weight decay")
    assert "barely" not in factor_sentence(study(0.80), "ConvNet", "weight decay")


def test_a_regulariser_taken_away_that_only_widens_the_gap_is_explained_by_that_gap():
    from lab.questions.hparams import factor_sentence

    rows = [_row("base", "-", _run(0.600, 0.62)), _row("augmentation", "none", _run(0.598, 0.72))]
    text = factor_sentence(_study(rows), "ConvNet", "augmentation")
    assert "no measurable effect" in text and "gap moves (+2.0 -> +12.2 points" in text and "barely" not in text


def test_a_run_at_chance_failed_to_train_and_epochs_are_not_capacity():
    from lab.questions.hparams import Diagnosis, mechanism

    base = Diagnosis(0.67, 0.65, 1.97, 1000)
    assert mechanism(base, Diagnosis(0.099, 0.104, 2.26, 1000)).startswith("it failed to train")
    longer = mechanism(base, Diagnosis(0.77, 0.72, 2.11, 1000), "epochs")
    assert "optimisation gain, the same network" in longer and "capacity" not in longer and "first-epoch" not in longer
    assert "first-epoch loss 1.97 -> 2.11" in mechanism(base, Diagnosis(0.77, 0.72, 2.11, 1000), "batch size")


def test_the_lr_finder_curve_is_debiased_so_it_never_starts_below_the_loss():
    from lab.questions.hparams import FINDER_BETA, debiased

    avg, lightning = 0.0, []
    for step in range(50):  # Lightning's _LRCallback on a constant loss of ln 10, global_step read after the step
        avg = FINDER_BETA * avg + (1 - FINDER_BETA) * 2.302585
        lightning.append(avg / (1 - FINDER_BETA ** (step + 1 + 1)))
    assert lightning[0] < 1.2  # the artefact: about half of ln 10
    assert all(abs(x - 2.302585) < 1e-9 for x in debiased(lightning))


def test_settings_within_the_noise_of_the_best_are_reseeded_and_the_best_is_a_mean():
    from lab.questions.hparams import near_best, pick_best

    rows = [
        _row("base", "-", _run(0.60)),
        _row("learning rate", "0.1", _run(0.650)),
        _row("batch size", "64", _run(0.645)),
        _row("epochs", "3", _run(0.50)),
    ]
    assert [r.value for r in near_best(rows, "ConvNet", band=0.014, most=2)] == ["0.1", "64"]
    rows[1].seed_runs = [_run(0.60, seed=1), _run(0.61, seed=2)]  # the lucky 0.650 was one seed
    rows[2].seed_runs = [_run(0.64, seed=1), _run(0.642, seed=2)]
    assert pick_best(rows, "ConvNet", [rows[0].run]) == 2


def test_the_lr_finder_is_compared_with_the_sweep_and_a_flat_finder_suggests_nothing():
    from lab.questions.hparams import finder_sentence, learned

    rows = [
        _row("base", "-", _run(0.6)),
        _row("learning rate", "0.01", _run(0.5)),
        _row("learning rate", "0.05", _run(0.6)),
        _row("learning rate", "0.15", _run(0.55)),
    ]
    study = _study(rows)
    study.lr_finder, study.lr_finder_learned = {"ConvNet": 0.04}, {"ConvNet": True}
    assert "agrees with the sweep" in finder_sentence(study, "ConvNet")
    study.lr_finder = {"ConvNet": 0.0005}
    assert "disagrees with the sweep" in finder_sentence(study, "ConvNet")
    assert not learned({"loss": [2.31, 2.30, 2.29]}) and learned({"loss": [2.31, 1.9]})
    study.lr_finder_learned = {"ConvNet": False}
    assert "never fell below" in finder_sentence(study, "ConvNet")


def test_the_combination_reports_predicted_against_measured_gain():
    from lab.questions.final import Combined, Trial, additivity

    def combined(measured):
        return Combined(
            "ConvNet",
            "lenet",
            ["batch norm = on (+4.0 points)", "width = x2 (+3.0 points)"],
            [],
            {},
            [],
            [_run(0.60)],
            0.07,
            Trial("candidate", {}, 6, _run(0.60 + measured)),
        )

    assert "predicted +7.0 points" in additivity(combined(0.07)) and "the gains add up" in additivity(combined(0.07))
    assert "factors interact" in additivity(combined(0.03)) and "measured +3.0" in additivity(combined(0.03))
    assert "reinforce" in additivity(combined(0.12))
    measured_noise = combined(0.114)  # 2.6 points short of +14.0 predicted, seed std 0.53 points: noise ±2.1
    measured_noise.predicted_gain, measured_noise.noise_std = 0.14, 0.0053
    assert "the gains overlap: -2.6 points short of the sum (noise of that difference ±2.1 points)" in additivity(
        measured_noise
    )
    measured_noise.noise_std = 0.01  # the same shortfall inside a wider noise (±4.0)
    assert "the gains add up: -2.6 points from the sum" in additivity(measured_noise)


def test_the_second_round_varies_the_candidate_rate_and_toggles_batch_norm():
    from lab.questions.final import neighbours

    around = neighbours(compose(["lenet"]), {"model": {"net": {"init_args": {"batch_norm": True}}}})
    assert around["lr x2 (0.1)"]["model"]["optimizer"]["init_args"]["lr"] == 0.1
    assert around["batch 256, lr x2"]["data"]["init_args"]["batch_size"] == 256
    assert around["batch norm off, lr x3"]["model"]["net"]["init_args"]["batch_norm"] is False


def test_deeper_says_optimisation_when_training_accuracy_falls_and_over_fitting_when_it_rises():
    from lab.questions.deeper import DeeperResult, why

    def result(train_deeper):
        original = [_run(v, 0.60, seed=i) for i, v in enumerate((0.56, 0.57, 0.56))]
        deeper = [_run(v, train_deeper, seed=i) for i, v in enumerate((0.50, 0.51, 0.50))]
        return DeeperResult({}, [Variant("original", original, "TwoLayerNet"), Variant("+2", deeper, "TwoLayerNet")])

    assert "optimisation" in why(result(0.50), "TwoLayerNet", "original", "+2")
    assert "over-fitting" in why(result(0.70), "TwoLayerNet", "original", "+2")
    assert "never left chance level" in why(result(0.11), "TwoLayerNet", "original", "+2")  # failed to train


def test_one_seed_gets_no_test_verdict_but_the_training_diagnostic_and_retuned_rows_name_their_rate():
    from lab.questions.deeper import RETUNED, DeeperResult, config_text, why

    one = DeeperResult(
        {"ConvNet": "experiments/lenet.yaml, 6 epochs, lr 0.05 (the study's best learning rate)"},
        [Variant("original", [_run(0.5, 0.55)], "ConvNet"), Variant("+2", [_run(0.4, 0.45)], "ConvNet")],
    )
    assert why(one, "ConvNet", "original", "+2").startswith("one seed, so no verdict on test accuracy")
    retuned = Variant(f"+2{RETUNED} (lr 0.15)", [], "ConvNet", {"model": {"optimizer": {"init_args": {"lr": 0.15}}}})
    assert config_text(one, retuned).endswith("lr 0.15 (the best of the variant's own sweep)")
    assert config_text(one, one.variants[0]) == one.sources["ConvNet"]


def test_the_final_is_checked_against_every_other_variant_of_its_network():
    from lab.questions.compare_nets import not_beaten

    final = Spread.of([0.70, 0.71, 0.705])
    others = {"study: lr 0.1": Spread.of([0.65]), "deeper: 64 channels": Spread.of([0.74, 0.745, 0.742])}
    assert not_beaten(final, others) == ["deeper: 64 channels"]
    assert not_beaten(Spread.of([0.80, 0.81, 0.805]), others) == []


def test_a_study_setting_that_is_the_final_is_not_its_rival():
    from lab.questions.compare_nets import others
    from lab.questions.hparams import HparamsResult

    same, other = _run(0.60), _run(0.55)
    rows = [_row("epochs", "18", same), _row("learning rate", "0.1", other)]
    study = HparamsResult(6, {"ConvNet": "lenet"}, rows, {"ConvNet": 0}, {}, {})
    from lab.utils.paths import run_folder

    assert list(others(study, None, "ConvNet", {run_folder(same.run_dir)})) == ["study: learning rate = 0.1"]


def test_the_budget_curve_says_plateau_or_still_rising_from_the_numbers():
    from lab.questions.hparams import budget_sentence

    def study(last):
        runs = [RunSummary(0, v, v, e, 1.0, "r") for e, v in ((6, 0.60), (3, 0.50), (12, 0.65), (20, last))]
        return _study([_row("base", "-", runs[0]), *[_row("epochs", str(r.epochs), r) for r in runs[1:]]])

    assert "has plateaued (12 -> 20 epochs: +0.5 points" in budget_sentence(study(0.655), "ConvNet")
    assert "still rising" in budget_sentence(study(0.70), "ConvNet")


def test_an_unchanged_run_is_not_called_a_regulariser_and_a_blow_up_is_named():
    from lab.questions.hparams import Diagnosis, mechanism

    base = Diagnosis(0.60, 0.55, 2.0, 1000)
    assert "neither training nor validation accuracy moved" in mechanism(base, Diagnosis(0.60, 0.55, 2.0, 1000))
    blown = mechanism(base, Diagnosis(0.30, 0.28, 3.5e27, 1000))
    assert "blew up" in blown and "3.5e+27 nats" in blown


def test_a_one_seed_final_is_never_called_measurably_the_best():
    from lab.questions.final import Combined, best_sentence, not_beaten, same_setting
    from lab.questions.hparams import HparamsResult

    study = HparamsResult(6, {"ConvNet": "lenet"}, [_row("base", "-", _run(0.50))], {"ConvNet": 0}, {}, {})
    final = Combined("ConvNet", "lenet", [], [], {}, [_run(0.60)], [])
    final.beaten_by = not_beaten(study, final)
    assert final.beaten_by == ["base = -"] and "cannot be said" in best_sentence(final)
    final.runs = [_run(0.60), _run(0.61, seed=1), _run(0.605, seed=2)]
    final.beaten_by = not_beaten(study, final)
    assert final.beaten_by == [] and "measurably better than every setting of the study (validation accuracy" in (
        best_sentence(final)
    )
    from dataclasses import replace

    from lab.utils.paths import REPO_ROOT

    absolute = replace(final.runs[0], run_dir=str(REPO_ROOT / final.runs[0].run_dir))  # as the study holds it
    study.rows.append(_row("epochs", "18", absolute))  # the final is this study setting, re-seeded
    final.beaten_by, final.same_as = not_beaten(study, final), same_setting(study, final)
    assert final.beaten_by == [] and "the final is the study's setting epochs = 18 (the same runs)" in best_sentence(
        final
    )


def test_make_all_points_the_fine_tuning_checkpoint_at_the_final_convnet_only_for_full_answers(tmp_path, monkeypatch):
    """§3 fine-tunes §2.4's final ConvNet: `make all` re-exports the checkpoint when its record names another
    source; never from QUICK/SMOKE answers, and not when it already is the final's."""
    import json
    from dataclasses import replace

    from lab.questions import finetune_start
    from lab.questions.context import RunContext

    target, calls = tmp_path / "convnet_cifar10.pt", []
    monkeypatch.setattr(finetune_start, "TARGET", target)
    monkeypatch.setattr(finetune_start, "final_setting", lambda results: (["lenet"], {}, "make final, seed 0"))
    monkeypatch.setattr(finetune_start, "pretrain", lambda ctx, opts: calls.append((ctx, opts)) or {"source": "new"})
    full = RunContext(results=tmp_path, accelerator="cpu")
    target.with_suffix(".json").write_text(json.dumps({"source": "an older study"}))
    assert finetune_start.refresh(replace(full, quick=True)) is None
    assert finetune_start.refresh(replace(full, configs=("experiments/smoke.yaml",))) is None
    assert not calls
    assert finetune_start.refresh(full) == {"source": "new"}
    ctx, opts = calls[0]
    assert opts.force and ctx.epochs is None and opts.output == target
    same = {"source": "experiments/lenet.yaml + make final (renamed label), seed 0", "config": ["lenet"], "change": {}}
    target.with_suffix(".json").write_text(json.dumps(same))
    assert finetune_start.refresh(full) is None and len(calls) == 1  # the same network under another wording


def test_the_checkpoint_source_names_the_final_budget_once(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from lab.questions import finetune_start

    final = SimpleNamespace(config="lenet", epochs=18, change={}, network="ConvNet")
    labels = {"combined winners, 18 epochs": "(combined winners, 18 epochs)", "base": "(base, 18 epochs)"}
    for label, shown in labels.items():
        case = SimpleNamespace(**vars(final), final_label=label)
        found = {"final": SimpleNamespace(networks=[case])}
        monkeypatch.setattr(finetune_start, "read_results", lambda results, may_read, found=found: found)
        assert f"make final {shown}, seed 0" in finetune_start.final_setting(tmp_path)[2]


def test_the_lr_finder_draws_no_progress_bar_into_a_log(tiny_config, capsys):
    from lab.questions.context import RunContext
    from lab.questions.hparams import lr_finder

    found = lr_finder(RunContext(configs=(tiny_config,), accelerator="cpu"), "lenet", steps=4)
    assert len(found["lr"]) == 4
    assert "Finding best initial lr" not in capsys.readouterr().err


def _net(sweep, diverged=(), train=0.6, val=0.5):
    from lab.questions.compare_nets import NetSummary

    history = [{"epoch": 5, "train_eval/acc": train, "val/acc": val}]
    return NetSummary(1000, 100, "base", val, val, 0.01, sweep, [f"learning rate = {d}" for d in diverged], history)


def test_compare_nets_explains_from_the_measured_gaps_and_both_ends_of_the_sweeps():
    from lab.questions.compare_nets import locality_sentence, sensitivity_sentences

    sweep = [(0.002, 0.30), (0.05, 0.45), (0.15, 0.40)]
    mlp, cnn = _net(sweep, diverged=["0.5"], train=0.60, val=0.45), _net(sweep, train=0.52, val=0.50)
    assert "TwoLayerNet fits its training images further" in locality_sentence(mlp, cnn, 0.05)[0]
    assert "not in generalisation alone" in locality_sentence(_net(sweep, train=0.46), cnn, 0.05)[0]  # reversed
    text = " ".join(sensitivity_sentences(mlp, cnn))
    assert "is the more sensitive one" not in text and "only TwoLayerNet diverged (lr 0.5)" in text
    short = [(0.002, 0.30), (0.015, 0.40), (0.05, 0.45)]
    as_loaded = [list(p) for p in short]  # a result read back from JSON holds lists
    bounded = " ".join(sensitivity_sentences(_net(as_loaded, diverged=["0.15"]), _net(short)))
    assert re.search(r"TwoLayerNet's .* \(best 0.05, interior\) and", bounded)  # a divergence bounds the sweep
    assert re.search(r"ConvNet's [0-9.]+ points \(best 0.05, upper edge\)", bounded)  # nothing above 0.05 tried
    gaps = locality_sentence(mlp, cnn, 0.05)[0]
    assert "TwoLayerNet 15.0, ConvNet 2.0 points" in gaps
    assert "fan" not in " ".join(sensitivity_sentences(_net(sweep), cnn)) and "3,072" not in " ".join(
        sensitivity_sentences(_net(sweep), cnn)
    )
    low = " ".join(sensitivity_sentences(_net(sweep), _net([(0.002, 0.10), (0.05, 0.45)])))
    assert "At the low end (lr 0.002) ConvNet falls further (10.0% vs 30.0%)" in low


def test_the_final_is_named_against_the_variants_at_or_above_it_not_a_list_of_every_tie():
    from lab.questions.compare_nets import beaten_sentence

    s = _net([])
    s.not_beaten, s.compared, s.above = ["a", "b", "c"], 20, ["deeper: 64 channels (74.4%)"]
    text = beaten_sentence("ConvNet", s)
    assert "than 3 of the 20 other variants" in text and "at or above it: deeper: 64 channels (74.4%)" in text
    s.not_beaten, s.above = ["deeper: +2 FC layers"], []
    assert "than 1 of the 20 other variants of it in the report (deeper: +2 FC layers); none scores higher" in (
        beaten_sentence("ConvNet", s)
    )
    s.not_beaten = []
    assert "measurably better (test) than every other variant" in beaten_sentence("ConvNet", s)


def test_the_final_conclusions_read_as_sentences(monkeypatch):
    from types import SimpleNamespace

    import lab.questions.final as final
    from lab.questions.stats import Difference

    monkeypatch.setattr(final, "additivity", lambda c: "TwoLayerNet: nothing beat the noise, nothing to combine.")
    monkeypatch.setattr(final, "best_sentence", lambda c: "-")
    case = SimpleNamespace(network="TwoLayerNet", left_out=["epochs = 18 (+3.7 points)"], gain=Difference(0.03, 0.0075))
    first = final.conclusions(SimpleNamespace(networks=[case]))[0]
    assert first.endswith("nothing to combine; left out: epochs = 18 (+3.7 points).") and ".;" not in first


def test_the_lr_finder_suggests_the_steepest_fall_per_factor_of_learning_rate():
    from lab.questions.hparams import steepest

    lrs = [10 ** (-4 + 4 * i / 99) for i in range(100)]
    wobble = [0.002 * (-1) ** i if i < 30 else 0.0 for i in range(100)]  # noise among the closely spaced rates
    losses = [2.3 - 0.5 / (1 + math.exp(-5 * (math.log10(lr) + 1.5))) + w for lr, w in zip(lrs, wobble)]
    assert 0.01 < steepest(lrs, losses) < 0.1  # the fall is centred at 10^-1.5 = 0.032
    assert steepest(lrs[:5], losses[:5]) is None


def test_the_sweep_figure_names_the_diverged_rates_in_its_legend(tmp_path, monkeypatch):
    import lab.questions.hparams as hparams

    legends = []
    monkeypatch.setattr(
        hparams, "save", lambda fig, path, *a, **k: legends.extend(fig.axes[0].get_legend_handles_labels()[1])
    )
    rows = [
        _row("base", "-", _run(0.60)),
        _row("learning rate", "0.01", _run(0.50)),
        _row("learning rate", "0.1", None),
    ]
    rows += [_row("learning rate", "1", None)]
    hparams.draw_acc_vs_lr(_study(rows), tmp_path / "f.png")
    assert "ConvNet diverged (lr 0.1, 1)" in legends


def test_the_finals_table_shows_the_training_accuracy_over_the_seeds():
    from lab.questions.final import Combined, finals_row

    runs = [_run(0.60, 0.70), _run(0.61, 0.72, seed=1)]
    row = finals_row(Combined("ConvNet", "lenet", [], [], {}, runs, runs, 0.0))
    assert row[5] == "71.00 ± 1.41"
