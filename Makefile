# `make demo` runs the main job, `make test` the test suite. Both build .venv on first use:
# torch's CPU build first (pinned, so pip never resolves a multi-GB CUDA build), then cadence with
# its development tools, the upstream packages the parity tests compare against and the trainers
# the integration tests run (Lightning, transformers' Trainer, accelerate, MMEngine's Runner, and
# Stable-Baselines3 with gymnasium, the `rl` extra).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cadence-installed

.PHONY: install test demo bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,parity,trainers,rl]'
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/cadence demo --out report

bench: $(STAMP)
	$(BIN)/python bench/bench_schedules.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build src/*.egg-info
