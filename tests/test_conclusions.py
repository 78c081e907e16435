"""Every written conclusion follows the numbers: made-up results where the usual outcome is reversed
(deeper is worse, fine-tuning loses to scratch, augmentation widens the gap, ...) must be said so."""

from pathlib import Path

from lab.questions.stats import Difference, Spread
from lab.questions.training import RunSummary, Variant


def _runs(*tests, val=None, last=None):
    return [
        RunSummary(i, val or t, t, 6, 1.0, f"r{i}", history=[{"epoch": 5, **(last or {})}]) for i, t in enumerate(tests)
    ]


def test_difference_verdicts():
    assert (
        Difference.between(Spread.of([0.5, 0.51, 0.5]), Spread.of([0.6, 0.61, 0.6])).verdict().startswith("better by +")
    )
    assert (
        Difference.between(Spread.of([0.6, 0.61, 0.6]), Spread.of([0.5, 0.51, 0.5])).verdict().startswith("worse by -")
    )
    assert (
        Difference.between(Spread.of([0.5, 0.6]), Spread.of([0.52, 0.58])).verdict().startswith("no measurable effect")
    )
    assert "no verdict" in Difference.between(Spread.of([0.5]), Spread.of([0.6])).verdict()


def _deeper(original, deeper, train=(0.60, 0.50)):
    from lab.questions.deeper import VARIANTS, DeeperResult

    def runs(label):
        trained = train[0] if label == "original" else train[1]
        return _runs(*(deeper if label != "original" else original), last={"train_eval/acc": trained})

    variants = [Variant(label, runs(label), network) for network, labels in VARIANTS.items() for label in labels]
    return DeeperResult({"TwoLayerNet": "x", "ConvNet": "y"}, variants)


def test_deeper_says_worse_when_two_more_layers_lose():
    from lab.questions.deeper import conclusions

    lines = conclusions(_deeper(original=(0.56, 0.57, 0.56), deeper=(0.50, 0.51, 0.50)))
    assert "TwoLayerNet, two more fully connected layers (original -> +2 FC layers): worse by -6" in lines[0]
    assert "ConvNet, depth alone" in lines[1] and "worse by" in lines[1]
    assert "Why (TwoLayerNet" in lines[4] and "optimisation / budget effect" in lines[4]
    assert "training accuracy 60.0% -> 50.0%" in lines[4]
    better = conclusions(_deeper(original=(0.50, 0.51, 0.50), deeper=(0.56, 0.57, 0.56), train=(0.50, 0.60)))
    assert "better by +6" in better[0] and "capacity the shallow net lacked" in better[5]


def _finetune(scratch, head, full):
    from lab.questions.finetune import FULL, HEAD, SCRATCH, FinetuneResult

    variants = [Variant(SCRATCH, _runs(*scratch)), Variant(HEAD, _runs(*head)), Variant(FULL, _runs(*full))]
    return FinetuneResult("convnet_cifar10.pt", 0.73, True, 2000, variants)


def test_finetune_says_so_when_transfer_loses_to_scratch():
    from lab.questions.finetune import explain

    lost = explain(_finetune(scratch=(0.75, 0.76, 0.75), head=(0.70, 0.70, 0.71), full=(0.65, 0.66, 0.65)))
    assert lost[0].startswith("- Full fine-tuning vs from scratch: worse by")
    assert not any("Why transfer helps" in line for line in lost)
    assert any("Keeping the body frozen wins" in line for line in lost)
    won = explain(_finetune(scratch=(0.65, 0.66, 0.65), head=(0.70, 0.70, 0.71), full=(0.75, 0.76, 0.75)))
    assert won[0].startswith("- Full fine-tuning vs from scratch: better by")
    assert any("Why transfer helps here" in line and "2,000 training images" in line for line in won)
    tied = explain(_finetune(scratch=(0.70, 0.66, 0.74), head=(0.70, 0.70, 0.71), full=(0.71, 0.67, 0.75)))
    assert any("no measurable gain over training from scratch" in line for line in tied)
    assert "Full fine-tuning vs classifier only: tied: no measurable difference" in tied[2]
    assert "Full fine-tuning vs classifier only: better by" in won[2] and "worse by" in lost[2]
    one_seed = explain(_finetune(scratch=(0.35,), head=(0.70,), full=(0.70,)))  # +35 points, but one seed
    assert not any("no measurable gain" in line for line in one_seed) and "no verdict" in one_seed[0]


def _augment(gaps_without, gaps_with):
    from lab.questions.augment import AugmentResult

    def variant(label, gaps):
        return Variant(
            label,
            [
                RunSummary(
                    i, 0.7, 0.7, 6, 1.0, "r", history=[{"epoch": 5, "val/acc": 0.70, "train_eval/acc": 0.70 + g}]
                )
                for i, g in enumerate(gaps)
            ],
        )

    return AugmentResult("Lenna.png", [variant("none", gaps_without), variant("flip + translate 4 px", gaps_with)])


def test_augment_says_the_gap_widens_when_it_does():
    from lab.questions.augment import explain

    assert "the gap widens" in explain(_augment(gaps_without=(0.02, 0.03, 0.02), gaps_with=(0.10, 0.11, 0.10)))
    assert "the gap shrinks" in explain(_augment(gaps_without=(0.10, 0.11, 0.10), gaps_with=(0.02, 0.03, 0.02)))
    assert "no measurable effect on the gap" in explain(_augment((0.05, 0.02, 0.08), (0.06, 0.03, 0.04)))


def test_one_seed_is_said_so_and_never_gets_a_spread():
    from lab.questions.augment import explain
    from lab.questions.stats import spread_words

    one = explain(_augment(gaps_without=(0.02,), gaps_with=(0.10,)))
    assert "one seed: no spread measured" in one and "over 1 seeds" not in one and "±" not in one
    assert "mean ± std over 3 seeds" in explain(_augment((0.02, 0.03, 0.02), (0.10, 0.11, 0.10)))
    assert spread_words(1).startswith("one seed") and spread_words(2) == "mean ± std over 2 seeds"


def test_compare_nets_names_the_better_network_from_the_numbers():
    from lab.questions.compare_nets import CompareResult, NetSummary, explain

    def net(params, first, acc, sweep):
        return NetSummary(params, first, "base", acc, acc, 0.01, sweep, [], [])

    mlp_wins = CompareResult(
        {
            "TwoLayerNet": net(1_578_506, 1_573_376, 0.70, [(0.01, 0.69), (0.1, 0.70)]),
            "ConvNet": net(62_006, 456, 0.55, [(0.01, 0.30), (0.1, 0.55)]),
        }
    )
    text = " ".join(explain(mlp_wins))
    assert "TwoLayerNet reaches 15.0 points more validation accuracy than ConvNet (70.0% vs 55.0%" in text
    assert "Neither span alone says which network is more sensitive" in text and "Shared local filters" not in text


def test_hparams_factor_inside_the_noise_band_has_no_measurable_effect():
    from lab.questions.hparams import HparamsResult, StudyRow, factor_sentence

    def row(factor, value, acc):
        return StudyRow("ConvNet", factor, value, {}, RunSummary(0, acc, acc, 6, 1.0, "r"))

    rows = [
        row("base", "-", 0.600),
        row("batch size", "64", 0.605),
        row("batch size", "512", 0.598),
        row("batch norm", "on", 0.700),
        row("optimizer", "adam", 0.50),
        row("optimizer", "adamw", 0.55),
    ]
    study = HparamsResult(6, {"ConvNet": "lenet"}, rows, {"ConvNet": 3}, {"ConvNet": Spread(0.6, 0.01, 3)}, {})
    assert "no measurable effect" in factor_sentence(study, "ConvNet", "batch size")
    batch_norm = factor_sentence(study, "ConvNet", "batch norm")  # one alternative: no best and worst
    assert "batch norm*, ConvNet: on: +10.0 points vs the base; noise band" in batch_norm
    optimizer = factor_sentence(study, "ConvNet", "optimizer")  # both alternatives lose: the diagnostics say why
    assert "best adamw (-5.0 points vs the base), worst adam (-10.0 points)" in optimizer
    assert "no training-accuracy diagnostic was measured" in optimizer  # these made-up runs measured none


def test_bonus_says_when_the_features_barely_move_and_when_they_separate():
    from lab.questions.finetune_bonus import BonusResult, explain

    matrix = [[90, 10], [30, 70]]
    assert "barely moves" in explain(BonusResult("r", "a", "b", ["cat", "dog"], 0.031, 0.038, 0.8, 40, matrix))
    moved = explain(BonusResult("r", "a", "b", ["cat", "dog"], 0.03, 0.20, 0.8, 40, matrix))
    assert "more compact and apart in the silhouette's sense" in moved and "dog taken for cat (30 images)" in moved
    assert "better separated" not in moved  # the silhouette alone does not measure separability


def test_lr_curves_does_not_assume_the_largest_rate_wins():
    from lab.questions.lr_curves import LrCurvesResult, RateRun, explain

    def rate(lr, val):
        return RateRun(
            lr, RunSummary(0, val, val, 6, 1.0, "r", history=[{"epoch": 5, "val/acc": val, "train_eval/acc": val}])
        )

    text = explain(LrCurvesResult([rate(1e-3, 0.40), rate(1e-4, 0.70), rate(1e-5, 0.30)], 5000))
    assert "lr 0.0001 reaches the highest validation accuracy" in text and "the largest rate is not the best" in text


def test_lr_curves_shows_the_course_cnn_layers_even_for_results_that_did_not_keep_them(tmp_path):
    from lab.questions.lr_curves import LrCurvesResult, RateRun, render

    run = RunSummary(0, 0.5, 0.5, 6, 1.0, "r", history=[{"epoch": 5, "val/acc": 0.5, "train_eval/acc": 0.6}])
    blocks = render(LrCurvesResult([RateRun(1e-3, run)], 5000, [], layers=[]), tmp_path)
    assert blocks[0].title.startswith("The course CNN (task 2a)") and "Conv2d" in blocks[0].markdown


def _transfer(by_size):
    from lab.questions.finetune import FULL, HEAD, SCRATCH
    from lab.questions.transfer import Resolution, TransferResult

    sizes = [
        Resolution(px, [Variant(label, _runs(*accs)) for label, accs in zip((SCRATCH, HEAD, FULL), runs)])
        for px, runs in by_size.items()
    ]
    return TransferResult("best.ckpt", 0.94, sizes)


def test_transfer_says_so_when_the_larger_size_loses_and_when_one_size_ran():
    from lab.questions.transfer import explain

    small = ((0.70, 0.71, 0.70), (0.85, 0.86, 0.85), (0.88, 0.89, 0.88))
    large = ((0.60, 0.61, 0.60), (0.80, 0.81, 0.80), (0.82, 0.83, 0.82))
    lines = explain(_transfer({32: small, 96: large}))
    assert "better by +18" in lines[0] and "Full fine-tuning vs classifier only at 32 px: better by +3" in lines[2]
    assert "(96 px vs 32 px" in lines[4] and "worse by -6" in lines[4]
    assert "Classifier only, 96 px vs 32 px: worse by -5" in lines[5] and "are 3x as wide in pixels" in lines[5]
    assert "full fine-tuning (unfreeze at epoch 5) at 32 px (88.3" in lines[6] and "goal" not in " ".join(lines)
    same = explain(_transfer({32: small, 96: small}))
    assert "Classifier only, 96 px vs 32 px: no measurable" in same[5] and "wide" not in same[5]
    alone = explain(_transfer({96: large}))
    assert "Only 96 px was run" in alone[2] and "at 96 px (82.3" in alone[3]


def test_transfer_says_tied_when_full_fine_tuning_and_classifier_only_are():
    from lab.questions.transfer import explain

    tied = ((0.70, 0.71, 0.70), (0.875, 0.87, 0.88), (0.88, 0.87, 0.875))
    assert (
        "Full fine-tuning vs classifier only at 32 px: tied: no measurable difference"
        in explain(_transfer({32: tied}))[1]
    )
    apart = ((0.70, 0.71, 0.70), (0.80, 0.81, 0.80), (0.88, 0.89, 0.88))
    assert "at 32 px: better by +" in explain(_transfer({32: apart}))[1]


def test_transfer_says_the_lenet_comparison_changes_the_whole_recipe():
    from lab.questions.finetune import FULL, HEAD, SCRATCH
    from lab.questions.transfer import explain

    result = _transfer({32: ((0.70, 0.71, 0.70), (0.85, 0.86, 0.85), (0.88, 0.89, 0.88))})
    result.lenet = [Variant(label, _runs(0.66, 0.67, 0.66)) for label in (SCRATCH, HEAD, FULL)]
    line = next(ln for ln in explain(result) if "starting network and its recipe" in ln)
    assert "compares whole recipes" in line and "epochs 30 vs 12" in line


def test_transfer_section_names_the_command_that_ran_its_sizes():
    from lab.questions.transfer import command

    small = ((0.70,), (0.85,), (0.88,))
    assert command(_transfer({32: small})) == "`make transfer`"
    assert command(_transfer({32: small, 96: small})) == '`make transfer ARGS="--pixels 32 96"`'


def _bn(running, initial, batch_stats):
    from lab.questions.bn import BNResult

    return BNResult("digits", 50, 0.1, 0.1, [13.7, 0.5], running, initial, [], 9, 1, batch_stats, 0.01, 0.99)


def test_bn_inference_note_follows_the_losses():
    from lab.questions.bn import inference_note

    note = inference_note(_bn(running=0.180, initial=0.037, batch_stats=0.181))
    assert "9 training images" in note and "1 validation image" in note
    assert "The lag does not cost here" in note and "lower loss with the initial statistics" in note
    reversed_note = inference_note(_bn(running=0.037, initial=0.180, batch_stats=0.010))
    assert "The lag costs here" in reversed_note and "lower loss with the running statistics" in reversed_note


def test_stl10_description_follows_the_classes_and_counts():
    from lab.questions.stl10_samples import STL10Samples, describe

    def subset(classes, test_per_class):
        counts = {
            s: dict.fromkeys(classes, n) for s, n in (("train", 400), ("validation", 100), ("test", test_per_class))
        }
        return STL10Samples(classes, counts)

    shared = describe(subset(["airplane", "bird", "ship", "cat", "dog"], 100))
    assert "all of these are CIFAR-10 classes too" in shared and "wild cats" in shared
    assert "500 of the 4,000 official test images" in shared and "2.0 points" in shared
    new = describe(subset(["monkey"], 800))
    assert "None of them is a CIFAR-10 class" in new and "wild cats" not in new and "800 of the 800" in new


def test_cifar10_test_set_note_follows_the_count():
    from lab.questions.cifar10_classes import test_set_note

    assert "1,000 of CIFAR-10's 10,000 test images" in test_set_note(1000) and "1.4 points" in test_set_note(1000)
    assert test_set_note(10_000) == "The test set is CIFAR-10's official 10,000 images."


def _bonus(before, after):
    from lab.questions.finetune_bonus import BonusResult

    probe = "linear probe, classes"
    matrix = [[90, 10], [30, 70]]
    return BonusResult("r", "a", "b", ["cat", "dog"], 0.03, 0.031, 0.8, 40, matrix, [], {probe: before}, {probe: after})


def test_bonus_separability_verdict_follows_the_probes():
    from lab.questions.finetune_bonus import probe_lines

    assert "more separable after" in probe_lines(_bonus([0.60, 0.02], [0.80, 0.02]))[0]
    assert "less separable after" in probe_lines(_bonus([0.80, 0.02], [0.60, 0.02]))[0]
    assert "no measurable change" in probe_lines(_bonus([0.70, 0.05], [0.72, 0.05]))[0]


def _robustness(plain_noise, augmented_noise, gains=(1.0, 1.0, 5.0)):
    from lab.data.corruptions import CORRUPTIONS
    from lab.questions.robustness import ModelRobustness, RobustnessResult

    def model(name, clean, noise, gain, hardest="contrast"):
        accuracy = {c: [clean - 0.1] * 5 for c in CORRUPTIONS}
        accuracy[hardest] = [clean - 0.3] * 5
        accuracy["gaussian noise"] = [noise] * 5
        return ModelRobustness(name, "x", clean, accuracy, gain)

    models = [
        model("course CNN, no augmentation", 0.80, plain_noise, gains[0]),
        model("course CNN, flip + translate", 0.82, augmented_noise, gains[1], "pixelate"),
        model("best CNN", 0.93, 0.18, gains[2]),
    ]
    return RobustnessResult(models, 1000, [])


def test_robustness_names_the_hardest_corruption_per_model_and_effects_beyond_noise():
    from lab.questions.robustness import explain

    text = " ".join(explain(_robustness(plain_noise=0.556, augmented_noise=0.469)))
    assert "course CNN, no augmentation: gaussian noise" not in text  # its hardest is contrast (0.50 < 0.556)
    assert "course CNN, flip + translate: gaussian noise (46.9%)" in text and "best CNN: gaussian noise (18.0%)" in text
    assert "Per corruption, beyond that noise: pixelate -18.0; gaussian noise -8.7; contrast +22.0 points." in text
    flipped = " ".join(explain(_robustness(plain_noise=0.469, augmented_noise=0.556)))
    assert "gaussian noise +8.7" in flipped


def test_noise_collapse_is_explained_only_when_the_first_layer_singles_it_out():
    from lab.questions.robustness import noise_collapse

    assert "best CNN amplifies the noise most" in noise_collapse(_robustness(0.55, 0.47, gains=(1.0, 1.1, 5.0)))[0]
    other = noise_collapse(_robustness(0.55, 0.47, gains=(6.0, 1.1, 0.9)))[0]
    assert "does not single out" in other and "amplifies the noise most" not in other


def test_best_reports_accuracy_with_and_without_test_time_augmentation():
    from lab.questions.best import BestResult, accuracy_text, headline

    def best(tta, plain):
        return BestResult("best", tta, 1000, 0.93, 13, 100.0, {}, "c", "r", [], [], [], plain, "flip_translate")

    text = accuracy_text(best(0.948, 0.932))
    assert "94.80% with test-time augmentation (TTA) and 93.20% without" in text and "TTA adds 1.6 points" in text
    assert "TTA costs 1.0 points" in accuracy_text(best(0.93, 0.94))
    assert headline(best(0.948, 0.932)).startswith("test 94.8% with TTA, 93.2% without")
    from lab.questions.best import render

    def bar(tta, plain):
        return next(b.body for b in render(best(tta, plain), Path(".")) if "bar" in getattr(b, "body", ""))

    assert "With and without TTA it misses the text's full-score bar" in bar(0.549, 0.535)  # TTA does not rescue
    assert "Without TTA it misses the text's full-score bar of 75% top-1; with TTA it meets it" in bar(0.80, 0.70)
    assert "With and without TTA it meets" in bar(0.948, 0.932)


def test_finetune_provenance_reads_the_checkpoint_record(tmp_path):
    from lab.questions.finetune import FinetuneResult, provenance, settings_rows

    record = {"source": "experiments/lenet.yaml", "epochs": 20, "val_acc": 0.73}
    result = FinetuneResult("checkpoints/convnet_cifar10.pt", 0.729, True, 2000, [], source=record)
    text = provenance(result)
    assert "`experiments/lenet.yaml` for 20 epochs" in text and "72.9% CIFAR-10 test" in text
    result.source = {"source": "experiments/lenet.yaml", "run_dir": str(tmp_path)}
    assert "does not keep the epoch count" in provenance(result)
    assert "not §2.4's final configuration" in text
    from lab.utils.paths import REPO_ROOT

    final = f"{REPO_ROOT}/experiments/lenet.yaml + make final (batch norm = on, 18 epochs), seed 0"
    result.source = {"source": final, "epochs": 18}
    text = provenance(result)
    assert "with `experiments/lenet.yaml` + make final (batch norm = on, 18 epochs), seed 0 for 18 epochs" in text
    assert "§2.4's final ConvNet (its seed-0 run)" in text and str(REPO_ROOT) not in text  # no machine's folders
    rows = dict(settings_rows())
    assert "unfrozen at 0.1 x the classifier's rate" in rows["full fine-tuning"]
    assert "from epoch 0 at 0.1 x" in rows["unfrozen at once"] and rows["learning rates"].endswith("= 0.002")
    assert "never unfreezes" not in rows["full fine-tuning"]
    short = dict(settings_rows([{"trainer": {"max_epochs": 2}}]))  # QUICK's budget, before the unfreeze epoch
    assert short["epochs, batch size"].startswith("2,") and "the body never unfreezes" in short["full fine-tuning"]


def test_finetune_says_what_gradual_unfreezing_changes_against_unfreezing_at_once():
    from lab.questions.finetune import AT_ONCE, curves_caption, gradual_text

    def result(full, at_once):
        r = _finetune(scratch=(0.6,) * len(full), head=(0.7,) * len(full), full=full)
        r.variants.append(Variant(AT_ONCE, _runs(*at_once)))
        return r

    assert "it is better by +5" in gradual_text(result((0.75, 0.76, 0.75), (0.70, 0.71, 0.70)))
    assert "it is worse by -5" in gradual_text(result((0.70, 0.71, 0.70), (0.75, 0.76, 0.75)))
    assert "no measurable difference" in gradual_text(result((0.70, 0.66, 0.74), (0.71, 0.67, 0.75)))
    assert "one seed, so no verdict" in gradual_text(result((0.75,), (0.70,)))
    assert "not measured" in gradual_text(_finetune(scratch=(0.6,), head=(0.7,), full=(0.7,)))
    assert "seeds 1-2" in curves_caption(result((0.75, 0.76, 0.75), (0.70, 0.71, 0.70)))
    assert "no faded lines" in curves_caption(result((0.75,), (0.70,)))


def test_no_share_is_rounded_to_a_whole_hundred_and_differences_say_their_uncertainty():
    from lab.questions.compare_nets import CompareResult, NetSummary, explain

    def net(params, first, acc):
        return NetSummary(params, first, "base", acc, acc, 0.01, [], [], [])

    nets = {"TwoLayerNet": net(1_578_506, 1_573_376, 0.55), "ConvNet": net(62_006, 456, 0.70)}
    text = " ".join(explain(CompareResult(nets)))
    assert "(99.7%)" in text and "(100%)" not in text
    assert Difference.between(Spread.of([0.5, 0.52]), Spread.of([0.6, 0.62])).points().endswith("points (s.e.)")


def test_transfer_measures_the_start_alone_and_says_when_full_and_classifier_only_tie():
    from lab.questions.finetune import FULL, HEAD, SCRATCH
    from lab.questions.transfer import START, Resolution, TransferResult, explain, settings

    def result(scratch, start, head, full):
        runs = zip((SCRATCH, START, HEAD, FULL), (scratch, start, head, full))
        return TransferResult("best.ckpt", 0.94, [Resolution(32, [Variant(label, _runs(*a)) for label, a in runs])])

    helps = " ".join(explain(result((0.70, 0.71, 0.70), (0.80, 0.81, 0.80), (0.85, 0.86, 0.85), (0.85, 0.87, 0.85))))
    assert "The start alone (CIFAR-10 weights vs random, the same recipe, no freezing) at 32 px: better by +10" in helps
    assert "Full fine-tuning vs classifier only at 32 px: tied: no measurable difference" in helps
    hurts = " ".join(explain(result((0.80, 0.81, 0.80), (0.70, 0.71, 0.70), (0.80, 0.81, 0.80), (0.85, 0.86, 0.85))))
    assert "at 32 px: worse by -10" in hurts and "classifier only at 32 px: better by +5" in hurts
    net = {"model": {"net": {"class_path": "lab.models.CourseCNN", "init_args": {"stem": "whiten"}}}}
    layers = settings(Path("x.ckpt"), net, 32)
    start, scratch = layers[START][0], layers[SCRATCH][0]
    assert start[:4] == scratch[:4]  # one recipe: the same base layers, only the last (how it starts) differs
    assert [c["class_path"] for c in start[-1]["trainer"]["callbacks"]] == ["lab.callbacks.LoadPretrained"]


def test_architectures_states_lenet5s_deviations_from_the_module():
    from lab.models import ConvNet
    from lab.questions.architectures import deviations

    rows = {part: here for part, here, _ in deviations(ConvNet())}
    assert rows["activation"].startswith("ReLU") and rows["S2, S4 subsampling"].startswith("MaxPool2d")
    assert rows["input"].startswith("3 channels") and "2,416 parameters" in rows["C3 connectivity"]
    other = {part: here for part, here, _ in deviations(ConvNet(in_channels=1, activation="tanh", pool="avg"))}
    assert other["activation"].startswith("Tanh") and other["S2, S4 subsampling"].startswith("AvgPool2d")
    assert other["input"].startswith("1 channel,") and "1,516" not in other["C3 connectivity"]


def test_preparation_names_the_augmentation_in_words_with_units():
    from lab.questions.preparation import augment_words

    assert augment_words({"flip": True, "translate": 2}) == "random horizontal flips, random translations by up to 2 px"
    assert augment_words({"flip": False, "translate": 0}) == "none"


def test_the_finetune_headline_tells_gradual_and_at_once_apart():
    from lab.questions.finetune import AT_ONCE, headline

    result = _finetune(scratch=(0.70,), head=(0.77,), full=(0.79,))
    result.variants.append(Variant(AT_ONCE, _runs(0.80)))
    line = headline(result)
    assert line.startswith("from scratch 70.0%; classifier only 77.0%;")
    assert (
        "full fine-tuning (unfreeze at epoch 5) 79.0%" in line and "full fine-tuning (unfrozen at once) 80.0%" in line
    )


def test_the_transfer_table_promises_a_resolution_comparison_only_when_two_sizes_ran(tmp_path):
    from lab.blocks import Table
    from lab.questions.transfer import render

    runs = ((0.70, 0.71, 0.70), (0.85, 0.86, 0.85), (0.88, 0.89, 0.88))
    titles = [b.title for b in render(_transfer({32: runs}), tmp_path) if isinstance(b, Table)]
    assert "Transfer to the STL-10 subset: starting network (32 px)" in titles
    titles = [b.title for b in render(_transfer({32: runs, 96: runs}), tmp_path) if isinstance(b, Table)]
    assert "Transfer to the STL-10 subset: starting network and resolution" in titles
