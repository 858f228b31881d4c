# The two commands: `make run` and `make test`. Everything else is set-up they do themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test install dev browser lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml setup.py $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

## Start the server with an embedded PostgreSQL under ./.modelog/
run: install
	$(BIN)/modelog serve --host $(HOST) --port $(PORT) --data-dir ./.modelog

## Debian's Chromium for the HTML report's browser test (playwright drives it; never `playwright
## install`). Installed only when missing; a stale package index is refreshed once if needed.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends chromium </dev/null \
	  || { apt-get update </dev/null && apt-get install -y --no-install-recommends chromium </dev/null; }; \
	fi

## Install the dev dependencies and run the whole test suite. Exit 5 ("no tests collected", e.g. a
## PYTEST_ARGS selection that matches nothing) is reported, not failed.
test: dev browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5)"; exit 0; fi; exit $$rc

lint: dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: dev
	$(BIN)/python bench/append.py

clean:
	rm -rf $(VENV) .pytest_cache
