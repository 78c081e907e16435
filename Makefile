# lab — every coursework question is a target.  `make help` lists them.
# Common switches:  ACCELERATOR=cpu|gpu|auto   ARGS="--trainer.max_epochs 3 ..."
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
ACCELERATOR ?= auto
CONFIG ?= lenet
STRATEGY ?= auto
DEVICES ?= auto
SEEDS ?= 3
ARGS ?=
RESULTS := $(or $(LAB_RESULTS_DIR),results)
# make all: target:results folder, in the order of the two texts
ALL := cifar10-classes:cifar10_classes architectures:architectures hparams:hparams deeper:deeper \
	compare-nets:compare_nets stl10-samples:stl10_samples finetune:finetune finetune-bonus:finetune_bonus \
	bn:bn lr-curves:lr_curves augment:augment best:best
RUN := $(BIN)/python -m lab

.DEFAULT_GOAL := help
.PHONY: help setup demo train test lint format bench bench-overhead bench-bn bench-memory bench-cpu bn lr-curves augment best cifar10-classes architectures hparams deeper compare-nets stl10-samples cifar10-convnet finetune finetune-bonus all report readme wandb-sync clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  switches: ACCELERATOR=$(ACCELERATOR) CONFIG=$(CONFIG) STRATEGY=$(STRATEGY) DEVICES=$(DEVICES) SEEDS=$(SEEDS) FULL= FORCE= RESUME= ARGS='$(ARGS)'"

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## create .venv from requirements.txt (every other target does this first)

demo: $(STAMP) ## train LeNet-5 on CIFAR-10 (10 epochs, ~2 min on 2 CPU cores), test it, print the run folder
	$(RUN) fit --config experiments/demo.yaml --trainer.accelerator $(ACCELERATOR) --run.test_after_fit true $(ARGS)

train: $(STAMP) ## train any config: make train CONFIG=twolayer ARGS="--trainer.max_epochs 3" (RESUME=1 continues the last run)
	$(RUN) fit --config experiments/$(CONFIG).yaml --trainer.accelerator $(ACCELERATOR) \
		--trainer.strategy $(STRATEGY) --trainer.devices $(DEVICES) --run.test_after_fit true \
		$(if $(RESUME),--ckpt_path last) $(ARGS)

test: $(STAMP) ## run the test suite (pytest, tiny generated data)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP) ## ruff check + format check
	$(BIN)/ruff check lab tests benchmarks
	$(BIN)/ruff format --check lab tests benchmarks

format: $(STAMP) ## ruff format + autofix
	$(BIN)/ruff format lab tests benchmarks
	$(BIN)/ruff check --fix lab tests benchmarks

cifar10-classes: $(STAMP) ## part 2 §2.1: sample grid of every class, counts, pixel statistics -> results/cifar10_classes/
	$(BIN)/python -m lab.questions.cifar10_classes $(ARGS)

architectures: $(STAMP) ## part 2 §2.2: layer tables, first conv kernel size, F6 parameters -> results/architectures/
	$(BIN)/python -m lab.questions.architectures $(ARGS)

hparams: $(STAMP) ## part 2 §2.4: LR finder + hyperparameter study of both nets (~25 min; FULL=1 larger) -> results/hparams/
	$(BIN)/python -m lab.questions.hparams $(if $(FULL),--full) --trainer.accelerator $(ACCELERATOR) $(ARGS)

deeper: $(STAMP) ## part 2 §2.4: both nets +2 layers vs original, best config, SEEDS=3 seeds -> results/deeper/
	$(BIN)/python -m lab.questions.deeper --seeds $(SEEDS) --trainer.accelerator $(ACCELERATOR) $(ARGS)

compare-nets: $(STAMP) ## part 2 §2.4: TwoLayerNet vs ConvNet from the study's results -> results/compare_nets/
	$(BIN)/python -m lab.questions.compare_nets $(ARGS)

stl10-samples: $(STAMP) ## part 2 §3.1: sample grid of the 5-class STL-10 subset (96 px and 32 px) -> results/stl10_samples/
	$(BIN)/python -m lab.questions.stl10_samples $(ARGS)

checkpoints/convnet_cifar10.pt: | $(STAMP)
	$(BIN)/python -m lab.questions.pretrain --trainer.accelerator $(ACCELERATOR)

cifar10-convnet: $(STAMP) ## the CIFAR-10 ConvNet fine-tuning starts from -> checkpoints/convnet_cifar10.pt (FORCE=1 retrains)
	$(BIN)/python -m lab.questions.pretrain $(if $(FORCE),--force) --trainer.accelerator $(ACCELERATOR) $(ARGS)

finetune: $(STAMP) checkpoints/convnet_cifar10.pt ## part 2 §3.2: scratch vs head-only vs full fine-tuning on STL-10, SEEDS seeds -> results/finetune/
	$(BIN)/python -m lab.questions.finetune --seeds $(SEEDS) --trainer.accelerator $(ACCELERATOR) $(ARGS)

finetune-bonus: $(STAMP) ## part 2 §3.3: t-SNE before/after, confusion matrix, misclassified images -> results/finetune_bonus/
	$(BIN)/python -m lab.questions.finetune_bonus $(ARGS)

bn: $(STAMP) ## assignment 2 task 1: NumPy batch norm in a toy MLP -> results/bn/
	$(BIN)/python -m lab.questions.bn $(ARGS)

lr-curves: $(STAMP) ## assignment 2 task 2c: course CNN at lr 1e-3, 1e-4, 1e-5 -> results/lr_curves/
	$(BIN)/python -m lab.questions.lr_curves --trainer.accelerator $(ACCELERATOR) $(ARGS)

augment: $(STAMP) ## assignment 2 task 2d: augmentations on Lenna + train-val gap with/without -> results/augment/
	$(BIN)/python -m lab.questions.augment --trainer.accelerator $(ACCELERATOR) $(ARGS)

best: $(STAMP) ## assignment 2 task 2e: the improved CNN, ~20 min on 2 CPU cores -> results/best/
	$(BIN)/python -m lab.questions.best --trainer.accelerator $(ACCELERATOR) $(ARGS)

bench: bench-overhead bench-bn bench-memory ## the quick benchmarks -> benchmarks/results.md (bench-cpu is separate: ~40 min)

bench-overhead: $(STAMP) ## Lightning Trainer vs a bare PyTorch loop, one ConvNet epoch
	$(BIN)/python -m benchmarks.bench_overhead

bench-bn: $(STAMP) ## NumPy batch norm vs nn.BatchNorm1d, forward + backward
	$(BIN)/python -m benchmarks.bench_numpy_bn

bench-memory: $(STAMP) ## peak RSS of the in-memory data module at 50k and 500k images (~2 min)
	$(BIN)/python -m benchmarks.bench_memory

bench-cpu: $(STAMP) ## time-to-accuracy of the CNN (fast90, fast300 x 3 seeds, best x 1), ~40 min
	$(BIN)/python -m benchmarks.bench_time_to_accuracy --accelerator $(if $(filter auto,$(ACCELERATOR)),cpu,$(ACCELERATOR)) $(ARGS)

all: $(STAMP) ## every question in order (done ones skipped unless FORCE=1), then the report; ~93 min on 2 CPU cores
	@start=$$(date +%s); \
	for pair in $(ALL); do target=$${pair%%:*}; folder=$${pair##*:}; \
	  if [ -z "$(FORCE)" ] && [ -e "$(RESULTS)/$$folder/latest" ]; then \
	    echo "[all] $$target: done ($(RESULTS)/$$folder/latest), skipped; FORCE=1 reruns it"; \
	  else echo "[all] $$target"; $(MAKE) --no-print-directory $$target || exit $$?; fi; \
	done; \
	$(MAKE) --no-print-directory report && echo "[all] finished in $$(( $$(date +%s) - start )) s"

report: $(STAMP) ## results/REPORT.md + self-contained REPORT.html from the latest results (missing ones listed)
	$(BIN)/python -m lab.report --results $(RESULTS)

readme: $(STAMP) ## rewrite README's result sections from the latest results
	$(BIN)/python -m lab.report.readme --results $(RESULTS)

wandb-sync: $(STAMP) ## upload every offline W&B run under runs/ and results/ (needs `wandb login`)
	@runs=$$(find runs $(RESULTS) -type d -name 'offline-run-*' 2>/dev/null); \
	if [ -z "$$runs" ]; then echo "no offline W&B runs under runs/ or $(RESULTS)/"; else $(BIN)/wandb sync $$runs; fi

clean: ## remove caches (never runs/, results/ or checkpoints/)
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
