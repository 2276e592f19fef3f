# Every job of the course. `make book` builds the website, `make test` runs every test.
# The first target run creates .venv with the system python3 and installs the pinned lock;
# later runs reuse it until requirements/lock.txt or pyproject.toml change.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

# nbgrader, jupyter-book and nbclient start kernels and helper programs (alembic, jupyter)
# from PATH: the venv comes first so that they run with the project's Python. JUPYTER_PATH
# puts the venv's kernel ahead of any kernel installed for the user.
export PATH := $(BIN):$(PATH)
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help install test test-fast book serve bench release grade lint lock clean

help:
	@echo "make book    build the course website into _build/html (from clean, warnings as errors)"
	@echo "make test    run every test (package, checks, notebooks, book build, browser)"
	@echo "make serve   serve the built website on http://127.0.0.1:8000"
	@echo "make bench   print rnncore's speed against torch.nn on this machine"
	@echo "make release regenerate exercises/ from solutions/ with nbgrader"
	@echo "make grade   autograde every submission in submitted/ and export grades.csv"
	@echo "make lint    ruff"
	@echo "make clean   remove build outputs (keeps .venv)"

install: $(STAMP)

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements/lock.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV)/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnn-course .venv)" >/dev/null
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check rnncore tests bench
	$(BIN)/ruff format --check rnncore tests bench

# Re-resolve the lock from requirements/requirements.in (needs the network).
lock:
	rm -rf /tmp/rnn-course-lock && $(PYTHON) -m venv /tmp/rnn-course-lock
	/tmp/rnn-course-lock/bin/pip install --quiet -r requirements/requirements.in
	{ sed -n '1,3p' requirements/lock.txt; /tmp/rnn-course-lock/bin/pip freeze | sed 's/^torch==\([0-9.]*\)+.*/torch==\1/'; } > requirements/lock.new
	mv requirements/lock.new requirements/lock.txt

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
