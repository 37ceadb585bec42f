# Vouch: `make run` serves the demo; `make test` runs the whole suite; `make test-fast` is
# the inner loop; `make lint` runs the static checks (the same ones .ci/run runs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes for `make test` and `make test-fast` (pytest-xdist; each gets its own
# test database).
# TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= auto

.PHONY: messages run test test-fast install lint format worker beat clean totp lock wheel

# The exact versions CI tested (requirements/dev.txt, from `make lock`), then Vouch itself.
$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Pin every dependency again after changing pyproject.toml: requirements/prod.txt is what
# a production install uses (`pip install -r requirements/prod.txt dist/vouch-*.whl`),
# requirements/dev.txt adds the tools and is what `make install` and CI use.
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o requirements/prod.txt pyproject.toml
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --extra dev -o requirements/dev.txt pyproject.toml

# The installable package: templates, static files and migrations included.
wheel: $(STAMP)
	$(PY) -m pip wheel --quiet --no-deps -w dist .

install: $(STAMP)

# The embedded mode: SQLite, Celery tasks in-process, email printed to this console.
# SITE_URL follows HOST and PORT so the links in emails and on pages reach this server;
# one set by the user (a tunnel, a proxy) wins.
run: export DEBUG ?= true
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_data
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The demo manager's current two-factor code (the demo secret is fixed and documented).
totp: export DEBUG ?= true
totp: $(STAMP)
	@$(PY) manage.py demo_totp

# --dist loadfile sends each test module to one process, so a module's session fixtures
# (the real Celery worker) start once rather than in every process.
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The inner loop: SQLite whatever DATABASE_URL says, tasks in-process, no browser
# journeys (tests/browser), no real-worker or integration tests (tests/integration,
# `worker` marker); PostgreSQL-only tests skip. `make test` before pushing runs them all.
test-fast: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL -u VOUCH_REQUIRE_SERVICES \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not browser and not worker" \
	  --ignore=tests/browser --ignore=tests/integration $(PYTEST_ARGS)

# The static checks (.pre-commit-config.yaml: ruff check, ruff format --check,
# djlint --lint, django-upgrade, mypy, lint-imports) and no model change without a
# migration. `$(VENV)/bin/pre-commit install` runs the same hooks before each commit.
lint: export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
lint: $(STAMP)
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run \
	  || { echo "Models changed without a migration: run makemigrations."; exit 1; }

# The Spanish and German catalogs (locale/): new marked strings added, unused ones
# dropped, then compiled. Needs GNU gettext (apt-get install gettext); the compiled .mo
# files are committed, so serving them does not. tests/i18n/test_catalogs.py checks that
# this leaves nothing to translate.
MESSAGES_IGNORE := .venv node_modules tests bench demo docs artifacts build dist media staticfiles *.egg-info db.sqlite3*
messages: export DEBUG ?= true
messages: $(STAMP)
	$(PY) manage.py makemessages --locale=es --locale=de --no-location --no-obsolete \
	  $(addprefix --ignore=,$(MESSAGES_IGNORE))
	$(PY) manage.py compilemessages --locale=es --locale=de $(addprefix --ignore=,$(MESSAGES_IGNORE))

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	$(VENV)/bin/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles dist build
