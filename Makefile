# The one command surface. Every target creates / updates the virtualenv itself.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
TC_VENV := .venv-turicreate

.PHONY: run test test-fast test-integration bench lint format turicreate-env turicreate-env-if-possible clean

# motionlab and its dependencies: all that `make run` needs (scripts/venv.sh: uv, else pip).
$(RUNTIME): pyproject.toml client/pyproject.toml scripts/venv.sh
	bash scripts/venv.sh $(VENV) $(PYTHON) .
	touch $@

# And the development tools, for the tests, benchmarks and linters.
$(STAMP): $(RUNTIME)
	bash scripts/venv.sh $(VENV) $(PYTHON) '.[dev]'
	touch $@

# The Turi Create engine is opt-in (`make turicreate-env`): its ~2 GB Python 3.8 env is not
# on the way to the first answer. `make test` and `make bench` build it when a Python 3.8
# exists (CI: the tests of the real engine must run).
run: $(RUNTIME)
	@test -f $(TC_VENV)/.motionlab-env.json || echo "motionlab: the turicreate engine is off;" \
		"\`make turicreate-env\` adds it (Python 3.8, ~2 GB, a few minutes)"
	$(VENV)/bin/motionlab serve --migrate  # one start-up for both: the first answer sooner

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
