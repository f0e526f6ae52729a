# The cross-entropy kata. Every target first makes sure .venv exists, so the
# first command on a fresh clone sets everything up.
#
#   make check-all            progress over every module, and what to do next
#   make test-module-N        run module N's tests against your code
#   make hint-N               the next hint for module N's next unfinished task
#   make run-module-N         run module N as a script: its numbers and figures
#   make watch                re-run your current module on every save in exercises/
#   make compare-module-N     your outputs and figures beside the reference's (HTML report)
#   make reset-module-N       restore module N's stub (asks; backs your file up). YES=1 skips the question
#   make stop                 stop the warm test runner (it keeps numpy/torch imported between runs)
#   make verify               maintainers/CI: prove the course honest
#   make baselines            maintainers: redraw plots_baseline/ from reference/
#
# TARGET=reference runs the learner commands against the solutions.
# PIP_ARGS is passed to pip, e.g. on Linux without a GPU:
#   make install PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"

PYTHON ?= python3
TARGET ?= exercises
PIP_ARGS ?=
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export KATA_TARGET := $(TARGET)
export YES
export FORCE
export KATA_NO_SERVER
# Cached bytecode (and pytest's cached assertion rewrites) keep every run fast.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help install check-all watch stop verify baselines stubs download-mnist

help:
	@awk '/^#/ { sub(/^# ?/, ""); print; next } { exit }' Makefile

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) (first run only; torch makes it take a few minutes)..."
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; set PYTHON=python3.11 or similar")'
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@PYTHONWARNINGS=ignore $(PY) -m pip install --quiet $(PIP_ARGS) -e .
	@touch $@
	@echo "Environment ready."

install: $(STAMP)

# What maintainers' checks need beyond the learner's packages (ruff, expecttest, tensorboard).
$(DEV_STAMP): $(STAMP) pyproject.toml
	@echo "Installing the maintainers' tools (ruff, expecttest, tensorboard)..."
	@PYTHONWARNINGS=ignore $(PY) -m pip install --quiet $(PIP_ARGS) -e '.[dev]'
	@touch $@

check-all: $(STAMP)
	@$(PY) -m kata check-all $(ARGS)

test-module-%: $(STAMP)
	@$(PY) -m kata test $* $(ARGS)

hint-%: $(STAMP)
	@$(PY) -m kata hint $*

watch: $(STAMP)
	@$(PY) -m kata watch

compare-module-%: $(STAMP)
	@$(PY) -m kata compare $*

reset-module-%: $(STAMP)
	@$(PY) -m kata reset $*

run-module-%: $(STAMP)
	@$(PY) -m kata run $*

stop: $(STAMP)
	@$(PY) -m kata stop

verify: $(DEV_STAMP)
	@$(PY) -m kata verify

verify-module-%: $(DEV_STAMP)
	@$(PY) -m kata verify $*

download-mnist: $(STAMP)
	@$(PY) -m kata.given.mnist download

baselines: $(STAMP)
	@$(PY) -m kata baselines $(MODULES)

stubs: $(STAMP)
	@$(PY) -m kata stubs $(MODULES)
