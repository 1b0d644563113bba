# Affea: `make run` starts the whole platform locally, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install lint typecheck format migrate clean

# Reinstall only when the pinned requirements change: a second `make` is fast.
# A venv without pip (`python3 -m venv` failed half-way: Debian's python3 has no venv
# module without python3-venv) is made again once that package is there.
$(STAMP): requirements.txt requirements-dev.txt
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && \
	  PYTHON=$(PYTHON) scripts/ensure-system.sh import.ensurepip:python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# Browser libraries, pinned in package.json/package-lock.json, bundled into our static files
# by scripts/build-assets.sh (the Dockerfile runs the same script): the player and the
# admin's direct uploader. axe-core (a dev dependency) is read from node_modules by the
# browser tests. npm ci runs again only when the pins change.
NODE_MODULES := node_modules/.package-lock.json
$(NODE_MODULES): package.json package-lock.json
	@scripts/ensure-system.sh npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

ASSETS := static/vendor/player/media.js static/vendor/uploader/uploader.js
$(ASSETS) &: $(NODE_MODULES) static/js/admin-uploader.js scripts/build-assets.sh
	scripts/build-assets.sh

install: $(STAMP) $(ASSETS)

run: install
	@scripts/ensure-system.sh ffmpeg ffprobe:ffmpeg
	$(BIN)/python scripts/run_local.py

# The suite runs against real PostgreSQL and Redis: DATABASE_URL/REDIS_URL when set, else
# this machine's when they answer on 5432/6379, else throw-away servers the suite starts
# itself (tests/conftest.py; AFFEA_TEST_SERVICES=own forces that). Its subprocess tests
# (worker, gunicorn, entrypoint) need a database that other processes can open, which
# pytest's in-memory SQLite is not.
test: install
	@scripts/ensure-system.sh ffmpeg ffprobe:ffmpeg nginx chromium
	@if [ "$${AFFEA_TEST_SERVICES:-}" = own ] || { [ -z "$${DATABASE_URL:-}" ] && \
	    ! timeout 2 bash -c '</dev/tcp/127.0.0.1/5432' 2>/dev/null; }; then \
	  scripts/ensure-system.sh initdb:postgresql; fi
	@if [ "$${AFFEA_TEST_SERVICES:-}" = own ] || { [ -z "$${REDIS_URL:-}" ] && \
	    ! timeout 2 bash -c '</dev/tcp/127.0.0.1/6379' 2>/dev/null; }; then \
	  scripts/ensure-system.sh redis-server; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy .

migrate: install
	$(BIN)/python manage.py migrate

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache
