# Scale Code, Not Servers — every target bootstraps .venv from plain python3 on first use.
#   make lab        open JupyterLab on the notebooks
#   make run        execute every notebook and print the results table (the main job)
#   make test       the whole test suite, embedded backends (fakeredis, SQLite)
#   make test-real  the same suite against a real Redis and PostgreSQL (REDIS_URL, DATABASE_URL)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2
REAL_REDIS_URL    ?= redis://127.0.0.1:6379/0
REAL_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Jupyter refuses to run as root unless told (containers, CI machines)
LAB_FLAGS ?= --ServerApp.ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab run test test-real doctor labs data lint strip clean help
.DEFAULT_GOAL := help

help:
	@sed -n '1,6p' Makefile | sed 's/^# \{0,1\}//'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) notebooks/00_setup_check.ipynb

run: $(STAMP)
	$(BIN)/python -m scalecode run

test: $(STAMP)
	env -u REDIS_URL -u DATABASE_URL -u SCALECODE_TEST_REAL \
	  $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test-real: $(STAMP)
	SCALECODE_TEST_REAL=1 REDIS_URL=$(REAL_REDIS_URL) DATABASE_URL=$(REAL_DATABASE_URL) \
	  $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

doctor: $(STAMP)
	$(BIN)/python -m scalecode doctor

labs: $(STAMP)
	$(BIN)/python -m scalecode labs

data: $(STAMP)
	$(BIN)/python data/make_data.py

lint: $(STAMP)
	$(BIN)/ruff check src tests data

strip: $(STAMP)
	$(BIN)/nbstripout notebooks/*.ipynb solutions/*.ipynb labs/*.ipynb

clean:
	rm -rf build .pytest_cache
