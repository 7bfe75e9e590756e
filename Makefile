# dsr: the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

LOCK := requirements.lock
# One command regenerates the lock from pyproject.toml: every dependency (and the dev extra) pinned with its
# hashes. PIP_COMPILE_ARGS=--upgrade moves every pin to the newest release pyproject.toml allows.
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --output-file $(LOCK)

.PHONY: run test setup system-deps venv translations db demo lint clean e2e-deps oidc-deps lock lock-check

run: setup db demo  ## set up, migrate, load the demo on first start, serve on 127.0.0.1:5000
	@echo ""
	@echo "dsr is starting on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	@$(FLASK) dsr demo --if-empty | sed -n '/Demo logins/,$$p'
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

test: lock-check setup e2e-deps oidc-deps  ## set up and run every test (unit, integration on SQLite and PostgreSQL, web, e2e)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile

setup: system-deps venv translations

# axe-core, which the browser tests inject to check accessibility: the exact version in tests/e2e/package-lock.json.
e2e-deps: tests/e2e/node_modules/.package-lock.json

tests/e2e/node_modules/.package-lock.json: tests/e2e/package.json tests/e2e/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the browser tests' axe-core (apt-get install npm)"; exit 1; }
	npm ci --prefix tests/e2e --no-audit --no-fund

# The real OpenID provider the sign-on tests start (oidc-provider, the exact version in tests/oidc/package-lock.json).
oidc-deps: tests/oidc/node_modules/.package-lock.json

tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the sign-on tests' OpenID provider (apt-get install npm)"; exit 1; }
	npm ci --prefix tests/oidc --no-audit --no-fund

system-deps:
	@bash scripts/system-deps.sh

venv: $(VENV)/.installed

# Exactly what the lock says, checked against its hashes; then dsr itself, editable, without resolving again.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dsr needs Python 3.11 or newer")'
	@$(PYTHON) scripts/check-lock.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $@

lock-check:  ## fail, naming the difference, when requirements.lock and pyproject.toml disagree
	@$(PYTHON) scripts/check-lock.py

# Uses the venv's pip-compile (pinned in the lock itself); builds the venv first only when there is none, so
# `make lock VENV=/path/to/another/venv` regenerates with that venv's pip-compile and installs nothing.
lock:  ## regenerate requirements.lock from pyproject.toml (after changing a dependency; commit both)
	@test -x $(BIN)/pip-compile || $(MAKE) venv
	$(PIP_COMPILE) $(PIP_COMPILE_ARGS) pyproject.toml
	@$(PYTHON) scripts/check-lock.py && echo "$(LOCK) regenerated; commit it with pyproject.toml."

translations: venv  ## compile the interface translations (the .mo files are build output, not in git)
	@if [ -d translations ]; then $(BIN)/pybabel compile -d translations >/dev/null; fi

db: venv
	$(FLASK) db upgrade

demo: db
	@$(FLASK) dsr demo --if-empty >/dev/null

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
