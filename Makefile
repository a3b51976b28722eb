# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_ENV := DEBUG=true
HOST ?= 127.0.0.1
PORT ?= 8000
# Escalation emails link here: the port `make run` serves unless SITE_URL says otherwise.
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test lint bench drills worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes, so a second `make run` starts in seconds.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(RUN_ENV) PORT=$(PORT) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

worker: $(VENV)/.installed
	$(BIN)/celery -A socconsole worker --beat --loglevel=info

# Each benchmark takes its own arguments: BENCH_ARGS (ingest), INGEST_EVENTS_ARGS, CORRELATE_ARGS,
# LATENCY_ARGS, TRIAGE_ARGS, SEARCH_ARGS, INVESTIGATION_ARGS, DASHBOARD_ARGS, ACTIVITY_ARGS.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)
	$(BIN)/python bench/ingest_events.py $(INGEST_EVENTS_ARGS)
	$(BIN)/python bench/correlate.py $(CORRELATE_ARGS)
	$(BIN)/python bench/latency.py $(LATENCY_ARGS)
	$(BIN)/python bench/triage.py $(TRIAGE_ARGS)
	$(BIN)/python bench/search.py $(SEARCH_ARGS)
	$(BIN)/python bench/event_storage.py $(STORAGE_ARGS)
	$(BIN)/python bench/investigation.py $(INVESTIGATION_ARGS)
	$(BIN)/python bench/dashboard.py $(DASHBOARD_ARGS)
	$(BIN)/python bench/activity.py $(ACTIVITY_ARGS)

# The five fault drills against real gunicorn, Celery and a redis-server of their own, on
# PostgreSQL at 127.0.0.1:5432 (DRILLS_PG); DRILLS_ARGS picks some (a to e). See docs/operations.md.
drills: $(VENV)/.installed-dev
	$(BIN)/python -m drills $(DRILLS_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
