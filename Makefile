# The two quick-start commands: `make serve` (install + chat UI) and `make test` (install + whole suite).
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install install-test browser serve test test-fast

install:
	$(PIP) install -e ".[all]"

# Debian's chromium for the browser tests (never `playwright install`: no browser downloads here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }

install-test: browser
	$(PIP) install -e ".[all,test]"

serve: install
	$(PYTHON) -m assistant serve

test: install-test
	$(PYTHON) -m pytest
	$(PYTHON) -m assistant eval --suite corpus --gate
	$(PYTHON) -m assistant eval --suite squad --sample 100 --gate
	$(PYTHON) -m assistant eval --suite squad2 --sample 200 --gate

test-fast:
	$(PYTHON) -m pytest -m "not slow"
