# lab — every coursework question is a target.  `make help` lists them.
# Switches:  ACCELERATOR=cpu|gpu|auto  SEEDS=3  QUICK=1 (reduced budgets)  SMOKE=1 (tiny runs)  ARGS="..."
#   FORCE=1 recomputes answers (reusing finished identical training runs), RETRAIN=1 also trains every run again
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
ACCELERATOR ?= auto
CONFIG ?= lenet
STRATEGY ?= auto
DEVICES ?= auto
SEEDS ?= 3
ARGS ?=
RESULTS := $(or $(LAB_RESULTS_DIR),results)
# switches every question understands (lab/questions/runner.py)
QFLAGS = --accelerator $(ACCELERATOR) --seeds $(SEEDS) --results $(RESULTS) $(if $(SMOKE),--config experiments/smoke.yaml) \
	$(if $(QUICK),--quick) $(if $(RETRAIN),--retrain)
# every registered question is a target (lr_curves -> make lr-curves): the registry's list (python -m lab.questions
# targets), kept in QUESTIONS_MK and asked again when lab/questions/ changes; no list before `make setup`
LAB_PYTHON := $(firstword $(wildcard $(BIN)/python) $(PYTHON))
QUESTIONS_MK := lab/questions/__pycache__/targets.mk
-include $(QUESTIONS_MK)
$(QUESTIONS_MK): $(wildcard lab/questions/*.py)
	@mkdir -p $(@D) && names=$$($(LAB_PYTHON) -m lab.questions targets 2>/dev/null) && \
		echo "QUESTIONS := $$names" > $@.tmp && mv $@.tmp $@

.DEFAULT_GOAL := help
TARGETS := help setup demo train test lint format all report report-pages publish readme wandb-sync clean cifar10-convnet \
	predict bench bench-overhead bench-fixed-cost bench-bn bench-memory bench-precision bench-utilization bench-cpu
.PHONY: $(TARGETS) $(QUESTIONS)

help: ## list the targets
	@echo "Questions (make <target>; each writes results/<question>/<timestamp>/ and moves results/<question>/latest):"
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m lab.questions list; else echo "  $(QUESTIONS)  (make setup for details)"; fi
	@echo "Other targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Switches: ACCELERATOR=$(ACCELERATOR) SEEDS=$(SEEDS) QUICK= SMOKE= FORCE= RETRAIN= FULL= RESUME= CONFIG=$(CONFIG) ARGS='$(ARGS)'"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: lab needs Python >= 3.11 (found " + sys.version.split()[0] + "); run make setup PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## create .venv (TORCH_INDEX=https://download.pytorch.org/whl/cpu for CPU-only torch wheels)

demo: $(STAMP) ## train LeNet-5 on CIFAR-10 (experiments/lenet.yaml), test its best checkpoint, print the run folder
	$(BIN)/python -m lab fit --config experiments/lenet.yaml --trainer.accelerator $(ACCELERATOR) --run.test_after_fit true $(ARGS)

train: $(STAMP) ## any config: make train CONFIG=twolayer ARGS="--trainer.max_epochs 3" (overlays after their base: CONFIG="best fast90"; RESUME=1 continues the last run)
	$(BIN)/python -m lab fit $(foreach c,$(CONFIG),--config experiments/$(c).yaml) --trainer.accelerator $(ACCELERATOR) \
		--trainer.strategy $(STRATEGY) --trainer.devices $(DEVICES) --run.test_after_fit true \
		$(if $(RESUME),--ckpt_path last) $(ARGS)

test: $(STAMP) ## run the test suite (pytest, tiny generated data in the official formats)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP) ## ruff check + format check
	$(BIN)/ruff check lab tests benchmarks
	$(BIN)/ruff format --check lab tests benchmarks

format: $(STAMP) ## ruff format + autofix
	$(BIN)/ruff format lab tests benchmarks
	$(BIN)/ruff check --fix lab tests benchmarks

$(QUESTIONS): $(STAMP)
	$(BIN)/python -m lab.questions $(subst -,_,$@) $(QFLAGS) $(ARGS)

hparams: QFLAGS += $(if $(FULL),--full)
finetune: checkpoints/convnet_cifar10.pt

CKPT ?= checkpoints/convnet_cifar10.pt
IMAGES ?=
predict: $(STAMP) ## top-3 classes of your images: make predict IMAGES="photo.jpg folder/" [CKPT=<run folder or checkpoint>]
	@if [ -z "$(IMAGES)" ]; then echo "make predict needs IMAGES=<image files or folders>, e.g. make predict IMAGES=~/Pictures"; exit 2; fi
	$(BIN)/python -m lab.inference.predict $(CKPT) $(IMAGES) $(ARGS)

checkpoints/convnet_cifar10.pt: | $(STAMP)
	$(BIN)/python -m lab.questions.finetune_start --accelerator $(ACCELERATOR)

cifar10-convnet: $(STAMP) ## checkpoints/convnet_cifar10.pt, which fine-tuning starts from: the final ConvNet of make final, reused (FORCE=1 replaces the file)
	$(BIN)/python -m lab.questions.finetune_start $(if $(FORCE),--force) $(if $(RETRAIN),--retrain) --accelerator $(ACCELERATOR) $(ARGS)

all: $(STAMP) checkpoints/convnet_cifar10.pt ## every question in order (done ones skipped unless FORCE=1), then the report
	$(BIN)/python -m lab.questions all $(QFLAGS) $(if $(FORCE),--force) $(ARGS)
	$(MAKE) --no-print-directory report

report: $(STAMP) ## results/REPORT.md + self-contained REPORT.html from the latest results (missing ones listed)
	$(BIN)/python -m lab.report --results $(RESULTS)

report-pages: $(STAMP) ## A4 pages of the CV1 part's main body when printed (headless Chromium; the text allows 10)
	$(BIN)/python -m lab.report.pages --results $(RESULTS)

publish: $(STAMP) ## the latest complete report -> docs/report/ (<= 5 MiB) + README's table, all regenerated from the results
	$(BIN)/python -m lab.report.publish --results $(RESULTS)

readme: $(STAMP) ## refresh README's questions table from the latest results
	$(BIN)/python -m lab.report.readme --results $(RESULTS)

wandb-sync: $(STAMP) ## upload every offline W&B run under runs/ and results/ (needs `wandb login`)
	@runs=$$(find runs $(RESULTS) -type d -name 'offline-run-*' 2>/dev/null); \
	if [ -z "$$runs" ]; then echo "no offline W&B runs under runs/ or $(RESULTS)/"; else $(BIN)/wandb sync $$runs; fi

bench: bench-overhead bench-fixed-cost bench-bn bench-memory bench-precision bench-utilization ## the quick benchmarks -> benchmarks/results.md (bench-cpu is separate)

bench-overhead: $(STAMP) ## Lightning Trainer vs a bare PyTorch loop, one ConvNet epoch
	$(BIN)/python -m benchmarks.bench_overhead

bench-fixed-cost: $(STAMP) ## seconds a training run costs besides its loops (CLI, W&B, checkpoints, test)
	$(BIN)/python -m benchmarks.bench_fixed_cost

bench-bn: $(STAMP) ## NumPy batch norm vs nn.BatchNorm1d, forward + backward
	$(BIN)/python -m benchmarks.bench_numpy_bn

bench-memory: $(STAMP) ## peak RSS of the in-memory data module at 50k and 500k images
	$(BIN)/python -m benchmarks.bench_memory

bench-precision: $(STAMP) ## bf16 autocast vs float32 on this CPU, one training step of the best CNN and LeNet-5
	$(BIN)/python -m benchmarks.bench_precision

bench-utilization: $(STAMP) ## achieved GFLOP/s of a training step (best CNN, LeNet-5) against this device's matmul peak
	$(BIN)/python -m benchmarks.bench_utilization $(if $(filter gpu,$(ACCELERATOR)),--device cuda) $(ARGS)

bench-cpu: $(STAMP) ## time-to-accuracy of the hand-written CNN: fast90, fast360, best x 3 seeds (the longest benchmark: times in benchmarks/results.md)
	$(BIN)/python -m benchmarks.bench_time_to_accuracy --accelerator $(if $(filter auto,$(ACCELERATOR)),cpu,$(ACCELERATOR)) $(ARGS)

clean: ## remove caches (never runs/, results/ or checkpoints/)
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

ifeq ($(QUESTIONS)$(wildcard $(STAMP))$(LAB_SET_UP),)
# a fresh clone knows no question yet (the list comes from the registry): set up, then ask again
%:
	@$(MAKE) --no-print-directory $(STAMP) && $(MAKE) --no-print-directory $@ LAB_SET_UP=1
else
# any other name (a typo): one line listing the targets, exit 2; existing files (requirements.txt, ...) are untouched
%:
	$(error unknown target '$@': make takes one of $(TARGETS) $(or $(QUESTIONS),(and the questions, once make setup has run)) (make help describes them))
endif
