# Two entry points for a fresh clone; both create .venv and install into it first.
#   make run        - install with the [pipeline] extra, then run the pipeline on
#                     config/config.yaml (snakemake --cores 4)
#   make test       - install with the [test] extra, then run the whole test suite (what CI runs)
#   make test-fast  - the unit and project tests only, no Snakemake run (the edit loop, < 2 min)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 4

.PHONY: run test test-fast install install-test clean docs-figures config-docs report docs docs-serve dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[pipeline]'

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

run: install
	$(BIN)/snakemake --cores $(CORES)

test: install-test
	$(BIN)/python -m pytest

test-fast: install-test
	$(BIN)/python -m pytest tests/unit tests/project

# A release's files: the wheel and the sdist in dist/, checked (twine check). CI installs the
# wheel into a fresh venv without extras and runs the README's notebook example there.
dist: install-test
	rm -rf dist
	$(BIN)/python -m build --quiet --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

clean:
	rm -rf results .snakemake mlflow.db mlruns

# The Snakemake report of the last run: every figure with its caption, in one HTML file.
report: install
	$(BIN)/snakemake --report results/report.html

# config/README.md is generated from the config schema; run this after editing the schema.
config-docs: install
	$(BIN)/python tools/config_docs.py

# The README shows the pipeline's own figures: refresh them after `make run`.
docs-figures:
	mkdir -p docs/figures
	cp results/figures/*.png results/figures/*.gif docs/figures/

# The tutorial's pictures: run its examples with docs/ as the working folder (the tests run the
# same examples in a scratch folder).
docs-figures-tutorial: install-test
	$(BIN)/python tests/doc_examples.py docs/tutorial.md --cwd docs
	rm -f docs/*.parquet

# The documentation site, built as the tests build it, or served at http://127.0.0.1:8000.
docs: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve
