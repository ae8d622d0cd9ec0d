# Two commands set everything up: `make up` and `make test`.
# Each creates .venv if it is missing and installs the project into it.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: up down test lint fmt bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes. The install downloads ~300 MB of
# wheels (Pulumi + the AWS provider SDK, PostgreSQL binaries, boto3/moto, tantivy):
# say so and let pip show its progress rather than sit silent for a minute.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "polystore: installing the project and its pinned dependencies into $(VENV)"
	@echo "polystore: (Pulumi + AWS SDK, PostgreSQL binaries, moto, tantivy: about a minute the first time)"
	$(BIN)/pip install --progress-bar on --no-color --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)
	@echo "polystore: $(VENV) is ready"

up: $(STAMP)
	$(BIN)/polystore up

down: $(STAMP)
	$(BIN)/polystore down

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/polystore validate
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
