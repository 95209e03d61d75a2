# Ordo: `make run` sets up and serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test contract lint format migrate clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Ordo needs Python >= 3.12 (Django 6.1); set PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# The local development settings, written once and never overwritten: a random
# SECRET_KEY, and mail printed to the console. config/settings.py reads the file, so
# `manage.py` commands and `python -m pytest` run by hand work as the make targets do;
# a variable set in the environment wins over it. Git ignores it.
.env:
	@key=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') && [ -n "$$key" ] \
	&& umask 077 && { \
	  echo '# Local development settings (make wrote this once; the environment wins).'; \
	  echo "SECRET_KEY=$$key"; \
	  echo 'EMAIL_URL=console://'; \
	  echo '# Webhook receivers on this machine (http://127.0.0.1:9000/): development only.'; \
	  echo 'WEBHOOK_ALLOW_PRIVATE_URLS=1'; \
	} > $@.tmp && mv $@.tmp $@
	@echo "Wrote $@: a random development SECRET_KEY, customer emails printed to the console,"
	@echo "webhooks allowed to receivers on this machine."

migrate: $(VENV)/.installed .env
	$(BIN)/python manage.py migrate --noinput

# The delivery worker (webhooks, customer emails) runs beside the server; Ctrl+C or SIGTERM
# stops both (scripts/devserver.py).
run: migrate
	$(BIN)/python manage.py setup_demo --host $(HOST)
	$(BIN)/python scripts/devserver.py --host $(HOST)

test: $(VENV)/.installed-dev .env
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The published contract's gates (schemathesis, a generated client) against a live app on
# a throwaway PostgreSQL database; needs DATABASE_URL=postgres://… (.ci/run runs it).
contract: $(VENV)/.installed-dev .env
	$(BIN)/python scripts/contract_gates.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
