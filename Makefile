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

.PHONY: help install test test-fast book serve bench gpu release grade lint lock clean

help:
	@echo "make book    build the course website into _build/html (from clean, warnings as errors)"
	@echo "make test    run every test (package, checks, notebooks, book build, browser)"
	@echo "make test-fast  the tests that are neither slow nor need the built website"
	@echo "make serve   serve the built website on http://127.0.0.1:8000"
	@echo "make bench   print rnncore's speed against torch.nn on this machine"
	@echo "make gpu     on a CUDA GPU: the cuda tests, then rnncore.torch against cuDNN"
	@echo "make release regenerate exercises/ from solutions/ with nbgrader"
	@echo "make grade   autograde every submission in submitted/ and export grades.csv"
	@echo "make lint    ruff"
	@echo "make clean   remove build outputs (keeps .venv)"

install: $(STAMP)

$(STAMP): requirements/bootstrap.txt requirements/lock.txt pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'The lock needs Python 3.11 or newer; $(PYTHON) is ' + sys.version.split()[0] + '. Run make PYTHON=python3.11 (or newer).')"
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements/bootstrap.txt
	$(VENV)/bin/python -m pip install --quiet -r requirements/lock.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(VENV)/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnn-course .venv)" >/dev/null
	touch $@

# The strict book build is the chapters' execution test (a failing cell fails the build and
# names its page); ruff checks the style; pytest then runs every test, the browser test on the
# site it just built.
# After the strict build (a chapter whose cell fails stops it, so the chapters run once, there),
# the tests, then nbval over the instructor's source notebooks: every solution cell and hidden
# test cell must run without an error (--nbval-lax: their outputs are not stored).
test: book lint
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env solutions

# Everything but the slow tests and those that need the built website: a quick loop while
# editing rnncore or the checks.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not book" -q

# From clean HTML (the execution cache in _build/.jupyter_cache is kept, so only changed
# chapters run again), with warnings as errors (-W), nitpicky references (-n), and every
# warning reported before failing (--keep-going).
book: $(STAMP)
	rm -rf _build/html
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	$(BIN)/python book/_ext/report_execution_times.py _build/.jupyter_cache chapters/*.md book/*.md
	@echo "The website is in file://$(CURDIR)/_build/html/index.html"
	@echo "or run \`make serve\` and open http://127.0.0.1:8000"

serve:
	@test -f _build/html/index.html || { echo "No website in _build/html: run \`make book\` first."; exit 1; }
	@echo "Serving _build/html on http://127.0.0.1:8000 (Ctrl+C stops)"
	$(PYTHON) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

bench: $(STAMP)
	$(BIN)/python -m bench.run

# On a machine with a CUDA GPU and a CUDA build of torch: the tests marked cuda (skipped
# everywhere else), then the torch paths' benchmark on the GPU only. Stops at once, saying
# why, when torch sees no GPU.
# GPU_PYTHON: a Python whose torch is a CUDA build (with numpy, tqdm, pytest, hypothesis and
# threadpoolctl), e.g. a cluster's; by default the venv's, whose lock installs a CPU build here.
GPU_PYTHON ?= $(BIN)/python
gpu: $(if $(filter $(BIN)/python,$(GPU_PYTHON)),$(STAMP))
	cd $(CURDIR) && PYTHONPATH=$(CURDIR) $(GPU_PYTHON) -c "import sys, bench.run; sys.exit(bench.run.cuda_problem())"
	cd $(CURDIR) && PYTHONPATH=$(CURDIR) $(GPU_PYTHON) -m pytest -m cuda tests/torch
	cd $(CURDIR) && PYTHONPATH=$(CURDIR) $(GPU_PYTHON) -m bench.run --suite torch --device cuda

# exercises/<assignment>/ from solutions/<assignment>/ for every assignment ("*"); the same
# sources give the same bytes. The assignments are also recorded in gradebook.db (ignored by
# git), which `make grade` needs.
release: $(STAMP)
	$(BIN)/nbgrader generate_assignment "*" --force

# Checks every notebook in submitted/<student>/<assignment>/ (a corrupt one is named), runs
# nbgrader autograde on all of them, writes feedback/ and exports grades.csv.
grade: $(STAMP)
	$(BIN)/python -m rnncore.grading.autograde --feedback

lint: $(STAMP)
	$(BIN)/ruff check rnncore tests bench book/_ext
	$(BIN)/ruff format --check rnncore tests bench book/_ext

# Re-resolve the lock from requirements/requirements.in (needs the network).
lock:
	scratch=$$(mktemp -d) && $(PYTHON) -m venv $$scratch/venv \
	&& $$scratch/venv/bin/pip install --quiet -r requirements/requirements.in \
	&& { sed -n '1,3p' requirements/lock.txt; $$scratch/venv/bin/pip freeze | sed 's/^torch==\([0-9.]*\)+.*/torch==\1/'; } > requirements/lock.new \
	&& mv requirements/lock.new requirements/lock.txt; status=$$?; rm -rf $$scratch; exit $$status

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
