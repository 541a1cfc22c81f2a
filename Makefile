# Quick start: `make demo` and `make test` on a fresh machine.
# TORCH chooses the torch build; the default is the CPU wheel these machines carry.
# Elsewhere, e.g.: make test TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu124"
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test docs install lint typecheck bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(PY) examples/seed_graph.py
	MPLBACKEND=Agg $(PY) examples/stateful_training.py

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -q
	MPLBACKEND=Agg $(PY) -m pytest -q ../shared/acceptance || [ ! -d ../shared/acceptance ]

docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

lint: $(STAMP)
	$(PY) -m pip install --quiet ruff mypy
	$(PY) -m ruff check netgraph tests
	$(PY) -m mypy netgraph

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV) build *.egg-info
