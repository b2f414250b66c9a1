# Everything runs from a project virtualenv in .venv, built from the pinned lock file.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: help install demo sandbox test test-fast lint format typecheck check services clean image scan

help:
	@echo "make demo       see the whole shop work: emulated Telegram and Heleket, no accounts, no network"
	@echo "make sandbox    the same shop in your browser at http://127.0.0.1:8080 (Ctrl-C stops it)"
	@echo "make test       install what is needed, start PostgreSQL/Redis, run the whole suite"
	@echo "                (in parallel, with coverage; PYTEST_WORKERS=0 runs it in one process)"
	@echo "make test-fast  the inner loop: the suite without e2e, subprocess and slow tests, in parallel"
	@echo "make lint       ruff (lint + format check) and the import contracts (lint-imports)"
	@echo "make typecheck  mypy: strict on src, tests and bench type-checked"
	@echo "make check      lint + typecheck + test"
	@echo "make scan       the static checks of deploy/ and the tree (hadolint, Compose schema,"
	@echo "                checkov, trivy, detect-secrets; docs/deployment.md#checks)"
	@echo "make image      the one Docker image ($(IMAGE)) for every role (docs/deployment.md)"

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

# The scanners alone (they also run in `make test`), with the topology test that renders
# every environment with `docker compose config`.
scan: install
	$(BIN)/pytest -p no:cacheprovider -n 0 tests/deploy/test_scanners.py tests/deploy/test_topology.py

# The project image (deploy/docker/Dockerfile), labelled with the package version and the
# git revision. BUILD_CA, when the file exists, is handed to pip as an optional BuildKit
# secret (a TLS-intercepting proxy or a private mirror); it never enters a layer.
IMAGE    ?= shopbot:local
BUILD_CA ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_VERSION  = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE_REVISION = $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
comma := ,
# BuildKit (for the CA secret) comes from the CLI's buildx plugin or, without it, from a
# 20.10 client's built-in BuildKit (Debian's docker.io installs one at /usr/bin/docker).
DOCKER_BUILD ?= $(shell if docker buildx version >/dev/null 2>&1; then echo docker; \
  elif [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else echo docker; fi)
IMAGE_SOURCE   = $(shell git config --get remote.origin.url 2>/dev/null || echo unknown)

image:
	DOCKER_BUILDKIT=1 $(DOCKER_BUILD) build -f deploy/docker/Dockerfile -t $(IMAGE) \
	  --build-arg VERSION=$(IMAGE_VERSION) --build-arg REVISION=$(IMAGE_REVISION) \
	  --build-arg SOURCE=$(IMAGE_SOURCE) \
	  $(if $(wildcard $(BUILD_CA)),--secret id=ca$(comma)src=$(BUILD_CA)) .

clean:
	rm -rf $(VENV) .venv-checkov .venv-checkov.lock .mypy_cache .ruff_cache .pytest_cache .hypothesis test-results .coverage .coverage.*
