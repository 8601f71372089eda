# The Media API. `make dev` serves it; `make test` runs the whole suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCALSTACK_VENV := .venv-localstack
LOCALSTACK_PYTHON_VERSION ?= 3.13
PORT ?= 4100
STAGE ?= dev
PYTEST_WORKERS ?= 2
# The database every target uses: DATABASE_URL when set, else the embedded server.
DB_URL = $${DATABASE_URL:-$$($(PY) -m scripts.embedded_db url)}

.PHONY: dev test lint typecheck migrate token schedules localstack localstack-venv bench layer package deploy clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# LocalStack needs Python 3.13 and pins that clash with the app's: its own virtualenv.
$(LOCALSTACK_VENV)/.installed:
	bash scripts/localstack_venv.sh $(LOCALSTACK_VENV) $(LOCALSTACK_PYTHON_VERSION)
	touch $@

localstack-venv: $(LOCALSTACK_VENV)/.installed

dev: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m scripts.dev

test: $(VENV)/.installed $(LOCALSTACK_VENV)/.installed
	DATABASE_URL=$(DB_URL) $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy app.py chalicelib

migrate: $(VENV)/.installed
	DATABASE_URL=$(DB_URL) $(VENV)/bin/alembic upgrade head

token: $(VENV)/.installed
	@$(PY) -m scripts.dev token

clean:
	rm -rf $(VENV) $(LOCALSTACK_VENV) .data build
