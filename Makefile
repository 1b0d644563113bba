# Affea: `make run` starts the whole platform locally, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install lint typecheck format migrate clean

# Reinstall only when the pinned requirements change: a second `make` is fast.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# hls.js is pinned in package.json/package-lock.json and served from our own static files;
# its source map travels with it because collectstatic's manifest follows the reference.
HLS_JS := static/vendor/hls.js/hls.min.js
$(HLS_JS): package.json package-lock.json
	@scripts/ensure-system.sh npm
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(HLS_JS))
	cp node_modules/hls.js/dist/hls.min.js node_modules/hls.js/dist/hls.min.js.map $(dir $(HLS_JS))

install: $(STAMP) $(HLS_JS)

run: install
	@scripts/ensure-system.sh ffmpeg ffprobe:ffmpeg
	$(BIN)/python scripts/run_local.py

# The suite runs against real PostgreSQL: this machine's (trust auth) unless DATABASE_URL
# says otherwise. Its subprocess tests (worker, gunicorn, entrypoint) need a database that
# other processes can open, which pytest's in-memory SQLite is not.
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/affea
test: install
	@scripts/ensure-system.sh ffmpeg ffprobe:ffmpeg nginx chromium
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
