"""Settings for bench/api.py's gunicorn: Affea's own, plus a bare view to compare against."""

from affea.settings import *  # noqa: F403 - the benchmark runs the real configuration

ROOT_URLCONF = "bench.api_urls"
