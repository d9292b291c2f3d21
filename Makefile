# `make demo` runs the main job, `make test` the whole test suite. Both build .venv on first use,
# torch's CPU build first (pinned, so pip never resolves a multi-GB CUDA build), then cadence:
#   demo   only what the demo needs: cadence with its `cli` extra (matplotlib, PyYAML, rich,
#          scikit-learn); stamp .venv/.cadence-demo
#   test   everything: the `dev` extra (pytest, ruff, mypy, mkdocs, build, twine, ...), the
#          upstream packages the parity tests compare against (`parity`), the trainers the
#          integration tests run (`trainers`: Lightning, transformers' Trainer, accelerate,
#          MMEngine's Runner) and Stable-Baselines3 with gymnasium (`rl`); stamp
#          .venv/.cadence-installed, which satisfies the demo's too
# `make demo` then `make test` installs the rest; `make test` then `make demo` installs nothing.
#   quick  the test suite without the real-framework and recipe tests and the wheel test
#          (pytest -m "not frameworks and not slow"), then ruff and mypy
#   docs   the documentation site, strict (site/); dist: sdist and wheel in dist/, twine-checked
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.cadence-installed
DEMO_STAMP := $(VENV)/.cadence-demo
LINTED := src tests bench examples peer_suites docs/hooks

.PHONY: install test quick demo docs dist bench lint clean

install: $(STAMP)

$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	touch $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,parity,trainers,rl]'
	touch $(DEMO_STAMP) $@

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy

quick: $(STAMP)
	$(BIN)/python -m pytest -q -m "not frameworks and not slow"
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy

demo: $(DEMO_STAMP)
	$(BIN)/cadence demo --out report

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/twine check --strict dist/*

bench: $(STAMP)
	$(BIN)/python bench/bench_schedules.py

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist site src/*.egg-info
