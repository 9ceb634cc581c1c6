# Quick start: `make demo`, then `make test`. Every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test run lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -q --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/feeds demo --out public

run: $(VENV)/.installed
	$(BIN)/feeds run -c config.yaml

test: lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check feeds tests benchmarks
	$(BIN)/ruff format --check feeds tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -q

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -q --disable-pip-version-check -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/run.py --sources 200 --passes-only --vocabulary 20000
	$(BIN)/python benchmarks/run.py --sources 200 --passes-only --near-dup 0.4 --format atom
	if [ -d ../shared/corpus/real ]; then \
	  $(BIN)/python benchmarks/run.py --sources 200 --passes-only --real ../shared/corpus/real; fi
	$(BIN)/python benchmarks/stages.py
	$(BIN)/python benchmarks/shapes.py
	$(BIN)/python benchmarks/clustering.py
	$(BIN)/python benchmarks/fetch_memory.py

clean:
	rm -rf $(VENV) public .pytest_cache .mypy_cache .ruff_cache
