"""Settings for bench/api.py's gunicorn: Affea's own, plus a bare view to compare against."""

import os

from affea.settings import *  # noqa: F403 - the benchmark runs the real configuration

ROOT_URLCONF = "bench.api_urls"

if os.environ.get("BENCH_WITHOUT_METRICS") == "1":
    # To price the metrics middleware: the same run without it (issue 15's figure).
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "affea.middleware.MetricsMiddleware"]  # noqa: F405
