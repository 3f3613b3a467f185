# GRC: `make run` to try it, `make test` to check it. Nothing else is needed on a fresh clone
# but Python >= 3.11 and make.

VENV ?= .venv
PORT ?= 8000
# The first Python >= 3.11 found, unless PYTHON is given.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)
BIN := $(VENV)/bin

.PHONY: run test lint format install lock clean browser oidc

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

run: install
	$(BIN)/grc devserver --port $(PORT)

test: install lint browser oidc
	$(BIN)/pytest -n auto

# The browser tests drive Debian's Chromium (Playwright's own browser download is not possible
# here). Installed when missing and we may; otherwise say what to do.
browser:
	@command -v chromium >/dev/null 2>&1 || test -n "$$GRC_CHROMIUM" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests…"; \
	    apt-get update -q >/dev/null || { echo "apt-get update failed"; exit 1; }; \
	    apt-get install -y -q chromium >/dev/null || { echo "apt-get install chromium failed"; exit 1; }; \
	  else \
	    echo "The browser tests need Chromium: 'sudo apt-get install chromium' (or set GRC_CHROMIUM)."; \
	    exit 1; \
	  fi; }

# The FranceConnect tests run a real OpenID Connect provider (tests/oidc_provider/server.js, the
# oidc-provider package) under Node.js: install its packages from the lock file.
oidc: tests/oidc_provider/node_modules/.package-lock.json

tests/oidc_provider/node_modules/.package-lock.json: tests/oidc_provider/package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "The FranceConnect tests need Node.js >= 20.19 and npm: 'sudo apt-get install nodejs npm'."; \
	  exit 1; }
	cd tests/oidc_provider && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve the dependency ranges of pyproject.toml into exact versions (a fresh venv).
lock:
	rm -rf var/lockenv
	$(PYTHON) -m venv var/lockenv
	var/lockenv/bin/python -m pip install --quiet --upgrade pip
	var/lockenv/bin/python -m pip install --quiet '.[dev]'
	echo "# Exact versions for pyproject.toml's ranges; regenerate with 'make lock'." > requirements.lock
	var/lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^grc' >> requirements.lock
	rm -rf var/lockenv build grc.egg-info

clean:
	rm -rf $(VENV) var/static
