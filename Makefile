# The one command surface. Every target creates / updates the virtualenv itself.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TC_VENV := .venv-turicreate

.PHONY: run test test-fast test-integration bench lint format turicreate-env turicreate-env-if-possible clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) turicreate-env-if-possible
	$(VENV)/bin/motionlab migrate
	$(VENV)/bin/motionlab serve

# Every test has one tier (tests/support/tiers.py): unit, integration, system.
test: $(STAMP) turicreate-env-if-possible
	$(PY) -m pytest tests

test-fast: $(STAMP)
	$(PY) -m pytest tests -m unit

test-integration: $(STAMP)
	$(PY) -m pytest tests -m integration

bench: $(STAMP) turicreate-env-if-possible
	$(PY) -m pytest -s tests/benchmarks -p no:cacheprovider -o python_files='bench_*.py' -o python_functions='bench_*'

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Turi Create 6.4.1 needs Python 3.8: its own virtualenv, never imported by the main interpreter.
turicreate-env:
	bash scripts/turicreate_env.sh $(TC_VENV)

turicreate-env-if-possible:
	@bash scripts/turicreate_env.sh $(TC_VENV) --if-possible

clean:
	rm -rf $(VENV) $(TC_VENV) var .pytest_cache .ruff_cache
