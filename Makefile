# GRC: `make run` to try it, `make test` to check it. Nothing else is needed on a fresh clone
# but Python >= 3.11 and make.

VENV ?= .venv
PORT ?= 8000
# The first Python >= 3.11 found, unless PYTHON is given.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)
BIN := $(VENV)/bin

.PHONY: run test lint format install lock clean system system-run oidc

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

run: install system-run
	$(BIN)/grc devserver --port $(PORT)

test: install lint system oidc
	$(BIN)/pytest -n auto

# Programs from Debian's packages: Tesseract (French) and poppler for the OCR of letters (the
# worker of `make run` uses them), and for the tests also Chromium (Playwright cannot download
# its own browser here) and Dovecot (the real IMAP server of the mail gateway's tests).
# Installed when missing and we may; otherwise say what to do.
RUN_PACKAGES := tesseract:tesseract-ocr tesseract-fra:tesseract-ocr-fra pdftoppm:poppler-utils
TEST_PACKAGES := $(RUN_PACKAGES) chromium:chromium dovecot:dovecot-imapd

# $(1): the command:package pairs; $(2): "warn" to say what is missing and go on (make run:
# without Tesseract a letter's scan is kept, its text not read), else stop.
define need_packages
	@missing=""; for pair in $(1); do cmd=$${pair%%:*}; pkg=$${pair#*:}; \
	  if [ "$$cmd" = tesseract-fra ]; then \
	    tesseract --list-langs 2>/dev/null | grep -qx fra || missing="$$missing $$pkg"; \
	  elif [ "$$cmd" = chromium ] && [ -n "$$GRC_CHROMIUM" ]; then :; \
	  elif [ "$$cmd" = dovecot ]; then \
	    test -x /usr/sbin/dovecot || command -v dovecot >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	  else command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; fi; done; \
	test -z "$$missing" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's$$missing…"; \
	    apt-get update -q >/dev/null || { echo "apt-get update failed"; exit 1; }; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null \
	      || { echo "apt-get install$$missing failed"; exit 1; }; \
	  elif [ "$(2)" = warn ]; then \
	    echo "Missing Debian packages (letters' scans will not be read):$$missing;" \
	      "'sudo apt-get install$$missing' to have them."; \
	  else \
	    echo "Needed from Debian's packages: 'sudo apt-get install$$missing'."; \
	    exit 1; \
	  fi; }
endef

system-run:
	$(call need_packages,$(RUN_PACKAGES),warn)

system:
	$(call need_packages,$(TEST_PACKAGES))

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
