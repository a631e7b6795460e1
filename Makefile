# spamits: the two commands are `make test` and `make report`.  Both create .venv when it is missing and
# install the exact versions pinned in requirements.lock (generated from pyproject.toml by `make lock`).
#
#   make venv      .venv with the locked dependencies, spamits installed editable, Jupyter kernel "spamits"
#   make syslibs   make sure libarchive (C library read by libarchive-c, for counting 7z trap archives) and
#                  7-Zip (tests build archives with it) are present (Debian's libarchive13, 7zip; apt when root)
#   make browser   make sure a Chromium is present (Debian's chromium via apt-get when root): browser tests,
#                  static figure images of the reports (kaleido)
#   make test      unit tests (pytest tests, TEST_JOBS=auto parallel workers) then strict nbval on the notebooks
#   make test-fast the inner loop: pytest tests without the browser tests and the report builds (markers
#                  browser and report), no nbval; make test stays the full suite
#   make report    papermill-run the runs file into reports/ (reports/index.html); unchanged runs are skipped
#   make notebooks re-execute the committed notebooks in place (after changing them or the library)
#   make lint      ruff
#   make lock      regenerate requirements.lock with uv (keeps current pins where still allowed)
#   make lock-upgrade   same, moving every pin to the newest version pyproject.toml allows
#   make clean     built reports and caches (keeps .venv);  make distclean: also .venv and the lock tools
#
# Override the interpreter with `make PYTHON=/path/to/python3.11 ...`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL_NAME := spamits
KERNEL_DISPLAY := Python (spamits)

# Lock tool: uv, pinned, in its own small venv so it never enters the project environment.
UV_VERSION := 0.13.9
LOCK_TOOLS := .venv-lock
UV := $(LOCK_TOOLS)/bin/uv
LOCK_CMD := uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform linux \
	--no-header -o requirements.lock

PIP_FLAGS := --disable-pip-version-check --no-input
# pytest-xdist workers for the tests (auto: one per core). --dist loadscope sends each test module to one
# worker, so a module's shared report build (a module-scoped fixture) is built once.
TEST_JOBS ?= auto
PYTEST_PARALLEL := -n $(TEST_JOBS) --dist loadscope --no-loadscope-reorder
LINT_PATHS := $(wildcard lib tests benchmarks)

.PHONY: help venv syslibs browser test test-fast report notebooks lint lock lock-upgrade clean distclean

help:
	@sed -n '1,19p' Makefile | sed 's/^# \{0,1\}//'

# --- environment -------------------------------------------------------------------------------------------
venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  "$(PYTHON)" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	    f"spamits needs Python >= 3.11 but $(PYTHON) is {sys.version.split()[0]}; run: make PYTHON=/path/to/python3.11")' \
	  && echo "creating $(VENV) with $$("$(PYTHON)" --version)" \
	  && "$(PYTHON)" -m venv $(VENV); \
	fi
	$(PY) -m pip install $(PIP_FLAGS) --quiet -r requirements.lock
	$(PY) -m pip install $(PIP_FLAGS) --no-deps -e .
	$(PY) -m pip check
	$(PY) -m ipykernel install --user --name $(KERNEL_NAME) --display-name "$(KERNEL_DISPLAY)"
	touch $@

syslibs:
	@if "$(PYTHON)" -c 'import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library("archive") else 1)' \
	    && command -v 7zz >/dev/null 2>&1; then \
	  echo "syslibs: libarchive and 7-Zip present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "syslibs: installing Debian libarchive13 and 7zip with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && (apt-get install -y -q --no-install-recommends libarchive13 7zip || \
	    apt-get install -y -q --no-install-recommends libarchive13t64 7zip); \
	else \
	  echo "syslibs: libarchive or 7-Zip not found and installing them needs root and apt-get; install with:" \
	    "sudo apt-get install libarchive13 7zip (counting .7z archives needs libarchive; one test needs 7zz)"; \
	fi

browser:
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "browser: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "browser: installing Debian chromium with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends chromium fonts-liberation; \
	else \
	  other=$$(command -v chromium-browser google-chrome google-chrome-stable 2>/dev/null | head -n1 || true); \
	  if [ -n "$$other" ]; then echo "browser: no chromium, using $$other"; \
	  else echo "browser: no Chromium found, and installing one needs root and apt-get;" \
	    "install it with: sudo apt-get install chromium (browser checks are skipped without it)"; fi; \
	fi

# --- the two commands ------------------------------------------------------------------------------------
# Both suites always run; the recipe fails if either failed.
test: venv syslibs browser
	status=0; \
	$(PY) -m pytest tests $(PYTEST_PARALLEL) || status=$$?; \
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg $(PYTEST_PARALLEL) \
	  -p no:cacheprovider notebooks || status=$$?; \
	exit $$status

# Inner loop: no browser, no report builds (the report build of test_ingest_e2e.py is deselected by name until
# it carries the report marker).
test-fast: venv syslibs
	$(PY) -m pytest tests $(PYTEST_PARALLEL) -m "not browser and not report"

# Unchanged runs are skipped (content hashes); SPAMITS_REPORT_ARGS passes options, e.g. "--force" or "--jobs 2".
SPAMITS_REPORT_ARGS ?=
report: venv syslibs browser
	$(VENV)/bin/spamits report $(SPAMITS_REPORT_ARGS)

lint: venv
	$(VENV)/bin/ruff check $(LINT_PATHS)

# --- lock file ---------------------------------------------------------------------------------------------
define LOCK_HEADER
# requirements.lock: exact pins of every package that `pip install -e .[dev]` needs on Linux, CPython 3.11.
# Generated from pyproject.toml by uv $(UV_VERSION); do not edit by hand. Regenerate with `make lock`
# (`make lock-upgrade` to move every pin to the newest allowed version), which runs:
#   $(LOCK_CMD)
# `make venv` installs it: pip install -r requirements.lock, then pip install --no-deps -e .
# environment.yml must list the same versions for the direct dependencies (tests/test_environment.py).
endef
export LOCK_HEADER

$(UV):
	"$(PYTHON)" -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install $(PIP_FLAGS) uv==$(UV_VERSION)

lock: $(UV)
	$(LOCK_TOOLS)/bin/$(LOCK_CMD) --quiet
	printf '%s\n' "$$LOCK_HEADER" | cat - requirements.lock > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock
	@echo "requirements.lock updated; bring environment.yml's versions in line (tests/test_environment.py checks)"

lock-upgrade: $(UV)
	$(LOCK_TOOLS)/bin/$(LOCK_CMD) --upgrade --quiet
	printf '%s\n' "$$LOCK_HEADER" | cat - requirements.lock > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock

# --- cleaning ----------------------------------------------------------------------------------------------
clean:
	if [ -d reports ]; then find reports -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +; fi
	rm -rf .pytest_cache .ruff_cache build dist notebooks/results.json notebooks/.ipynb_checkpoints
	find . -path ./$(VENV) -prune -o -path ./$(LOCK_TOOLS) -prune -o \
	  \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -path ./$(LOCK_TOOLS) -prune -o -name '*.tmp' -type f -exec rm -f {} +

distclean: clean
	if [ -x $(VENV)/bin/jupyter ]; then $(VENV)/bin/jupyter kernelspec remove -y $(KERNEL_NAME) || true; fi
	rm -rf $(VENV) $(LOCK_TOOLS) lib/*.egg-info *.egg-info

# --- committed notebooks ---------------------------------------------------------------------------------
# Executed in their own folder with the default renderer (plotly mimetype plus a static PNG of each figure, so a
# code host shows it; nbval does not compare PNGs), as nbval will run them.
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
notebooks: venv
	for nb in $(NOTEBOOKS); do \
	  env -u SPAMITS_PLOTLY_RENDERER $(PY) -m papermill "$$nb" "$$nb" -k python3 --cwd notebooks --no-progress-bar; \
	done
