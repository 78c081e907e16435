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
ARGS ?=
RUN := $(BIN)/python -m lab

.DEFAULT_GOAL := help
.PHONY: help setup demo train test lint format bench bench-overhead bench-bn bn wandb-sync clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  switches: ACCELERATOR=$(ACCELERATOR) CONFIG=$(CONFIG) ARGS='$(ARGS)'"

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## create .venv from requirements.txt (every other target does this first)

demo: $(STAMP) ## train LeNet-5 on CIFAR-10 (10 epochs, ~2 min on 2 CPU cores), test it, print the run folder
	$(RUN) fit --config experiments/demo.yaml --trainer.accelerator $(ACCELERATOR) --run.test_after_fit true $(ARGS)

train: $(STAMP) ## train any config: make train CONFIG=twolayer ARGS="--trainer.max_epochs 3"
	$(RUN) fit --config experiments/$(CONFIG).yaml --trainer.accelerator $(ACCELERATOR) \
		--trainer.strategy $(STRATEGY) --trainer.devices $(DEVICES) --run.test_after_fit true $(ARGS)

test: $(STAMP) ## run the test suite (pytest, tiny generated data)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP) ## ruff check + format check
	$(BIN)/ruff check lab tests benchmarks
	$(BIN)/ruff format --check lab tests benchmarks

format: $(STAMP) ## ruff format + autofix
	$(BIN)/ruff format lab tests benchmarks
	$(BIN)/ruff check --fix lab tests benchmarks

bn: $(STAMP) ## assignment 2 task 1: NumPy batch norm in a toy MLP -> results/bn/
	$(BIN)/python -m lab.questions.bn $(ARGS)

bench: bench-overhead bench-bn ## every benchmark -> benchmarks/results.md

bench-overhead: $(STAMP) ## Lightning Trainer vs a bare PyTorch loop, one ConvNet epoch
	$(BIN)/python -m benchmarks.bench_overhead

bench-bn: $(STAMP) ## NumPy batch norm vs nn.BatchNorm1d, forward + backward
	$(BIN)/python -m benchmarks.bench_numpy_bn

wandb-sync: $(STAMP) ## upload every offline W&B run under runs/ (needs `wandb login`)
	@runs=$$(find runs -type d -name 'offline-run-*' 2>/dev/null); \
	if [ -z "$$runs" ]; then echo "no offline W&B runs under runs/"; else $(BIN)/wandb sync $$runs; fi

clean: ## remove caches (never runs/, results/ or checkpoints/)
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
