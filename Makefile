# The two quick-start commands: `make serve` (install + chat UI) and `make test` (install + whole suite).
# Both work in a project virtual environment (.venv), never the system Python (PEP 668 refuses that on
# current Debian/Ubuntu). `make clean` removes what make made.
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# The interpreter the environment is made from: the first Python 3.11 or 3.12 on PATH, or PYTHON=/path.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null \
	  && { command -v $$p; break; }; done)
NEED_PYTHON := install Python 3.11 or 3.12 (e.g. apt-get install python3.11 python3.11-venv, or pyenv install 3.11) and run make again, or pass PYTHON=/path/to/python3.11

.PHONY: venv install install-test browser serve test test-fast clean

# pip compiles llama.cpp (the 'llamacpp' extra) from source. Its default build targets this CPU's own
# instructions, and on a Xeon with AMX that build (llama-cpp-python 0.3.35 and 0.3.36) segfaulted on the
# first decode of the packaged Gemma-3 model; the portable build runs. Set CMAKE_ARGS to build otherwise.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

# The stamp files record what was installed, so a second `make serve` starts at once.
$(PY):
	@[ -n "$(PYTHON)" ] || { echo "error: no Python 3.11 or 3.12 found on PATH; $(NEED_PYTHON)" >&2; exit 2; }
	@"$(PYTHON)" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null || { \
	  echo "error: $(PYTHON) is not a Python 3.11 or 3.12; $(NEED_PYTHON)" >&2; exit 2; }
	@"$(PYTHON)" -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "error: $(PYTHON) cannot make virtual environments; install its venv module (Debian/Ubuntu: apt-get install python3-venv) and run make again" >&2; exit 2; }
	"$(PYTHON)" -m venv $(VENV)

venv: $(PY)

$(VENV)/.installed-all: pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[all]"
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[all,test]"
	@touch $@ $(VENV)/.installed-all

install: $(VENV)/.installed-all

install-test: browser $(VENV)/.installed-test

# Debian's chromium for the browser tests (never `playwright install`: no browser downloads here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }

serve: install
	$(PY) -m assistant serve

test: install-test
	$(PY) -m pytest
	$(PY) -m assistant eval --suite corpus --gate
	$(PY) -m assistant eval --suite squad --sample 100 --gate
	$(PY) -m assistant eval --suite squad2 --sample 200 --gate
	$(PY) -m assistant eval --suite mtrag --pool 1000 --part report --gate --quiet
	$(PY) -m assistant eval --suite mtrag --domain fiqa --pool 1000 --part report --gate --quiet

test-fast: install-test
	$(PY) -m pytest -m "not slow"

# What make made: the virtual environment, build, test and eval leftovers. The index folder is kept: it
# holds the uploaded documents' only copies (index/uploads/), and `make serve` rebuilds the rest anyway.
clean:
	rm -rf $(VENV) build dist .pytest_cache tests/artifacts evals/reports *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
