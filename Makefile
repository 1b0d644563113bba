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

# The player's parts (media-chrome's controls, hls-video-element over hls.js) are pinned
# in package.json/package-lock.json and bundled by esbuild into one file of our own static
# files: no CDN. axe-core (a dev dependency) is read from node_modules by the browser tests.
PLAYER_JS := static/vendor/player/media.js
$(PLAYER_JS): package.json package-lock.json
	@scripts/ensure-system.sh npm
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(PLAYER_JS))
	printf 'import "media-chrome";\nimport "media-chrome/menu";\nimport "hls-video-element";\n' \
	  | node_modules/.bin/esbuild --bundle --minify --format=iife --target=es2020 \
	      --log-level=warning --outfile=$(PLAYER_JS)

# The admin's direct uploader (Uppy: core, dashboard, aws-s3 multipart), pinned the same
# way; esbuild writes uploader.css beside it from the CSS the entry imports.
UPLOADER_JS := static/vendor/uploader/uploader.js
$(UPLOADER_JS): package.json package-lock.json static/js/admin-uploader.js
	@scripts/ensure-system.sh npm
	@test -d node_modules/@uppy/core || npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(UPLOADER_JS))
	node_modules/.bin/esbuild static/js/admin-uploader.js --bundle --minify --format=iife \
	  --target=es2020 --log-level=warning --outfile=$(UPLOADER_JS)

install: $(STAMP) $(PLAYER_JS) $(UPLOADER_JS)

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
