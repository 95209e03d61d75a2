# Ordo: `make run` sets up and serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
export ORDO_ALLOW_DEV_SECRET := 1

.PHONY: run test lint format migrate clean

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

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

# The task worker (customer emails) runs beside the server and stops with it; mail is
# printed to this console unless EMAIL_URL says otherwise.
run: export EMAIL_URL := $(or $(EMAIL_URL),console://)
run: migrate
	$(BIN)/python manage.py setup_demo --host $(HOST)
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python manage.py db_worker --no-reload --interval 1 & \
	$(BIN)/python manage.py runserver --insecure $(HOST)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
