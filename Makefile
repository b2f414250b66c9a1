# Everything runs from a project virtualenv in .venv, built from the pinned lock file.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: help install demo sandbox test test-fast lint format typecheck check services clean

help:
	@echo "make demo       see the whole shop work: emulated Telegram and Heleket, no accounts, no network"
	@echo "make sandbox    the same shop in your browser at http://127.0.0.1:8080 (Ctrl-C stops it)"
	@echo "make test       install what is needed, start PostgreSQL/Redis, run the whole suite"
	@echo "                (in parallel, with coverage; PYTEST_WORKERS=0 runs it in one process)"
	@echo "make test-fast  the inner loop: the suite without e2e, subprocess and slow tests, in parallel"
	@echo "make lint       ruff (lint + format check) and the import contracts (lint-imports)"
	@echo "make typecheck  mypy: strict on src, tests and bench type-checked"
	@echo "make check      lint + typecheck + test"

$(STAMP): pyproject.toml requirements.lock
	./scripts/ensure-python-venv.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/shopbot demo

sandbox: install
	$(BIN)/shopbot demo --serve

services:
	./scripts/ensure-services.sh

# Workers: the tests mostly wait on PostgreSQL, Redis and their own servers, so more workers
# than cores (2 here) should pay; see docs/testing.md for what was measured. Each worker
# gets its own database; loadgroup keeps the connection-hungry tests on one worker.
PYTEST_WORKERS ?= 4
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadgroup

# Coverage of the whole suite; the floor is fail_under in pyproject.toml.
test: install services
	$(BIN)/pytest $(PYTEST_PARALLEL) --cov --cov-report=term $(PYTEST_ARGS)

# The inner loop: no e2e stacks, no subprocesses, no slow property tests (markers in pyproject.toml).
test-fast: install services
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not e2e and not subprocess and not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis test-results .coverage .coverage.*
