"""Prometheus metrics of web and workers, kept in Redis and read by `/metrics` at scrape time.

Counters and histograms are Redis hashes that every process increments: gunicorn runs
several processes, RQ forks a work horse per job, and workers run on other machines, so
no process's own memory holds the totals. Queue depths and films by state are read live
when Prometheus scrapes. prometheus-client renders the exposition format.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from rq import Queue, Worker

logger = logging.getLogger(__name__)

PREFIX = "affea:metrics:"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STEP_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class Series:
    """A counter, or a histogram when it has buckets."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


REQUESTS = Series(
    "affea_http_requests", "HTTP requests by view, method and status.", ("view", "method", "status")
)
REQUEST_SECONDS = Series(
    "affea_http_request_duration_seconds", "Time to answer, by view.", ("view",), LATENCY_BUCKETS
)
DB_QUERIES = Series(
    "affea_db_queries", "Database queries made while answering, by view.", ("view",)
)
THROTTLED = Series("affea_throttled_requests", "Requests refused with 429, by view.", ("view",))
PLAYBACK_URLS = Series(
    "affea_playback_urls_issued", "Signed playback URLs handed out.", ("mode", "signer")
)
JOBS = Series(
    "affea_rq_jobs_finished", "RQ jobs run by workers, by task and outcome.", ("task", "outcome")
)
STEP_SECONDS = Series(
    "affea_pipeline_step_duration_seconds",
    "Pipeline step run time, by step, outcome and failure kind.",
    ("step", "outcome", "failure_kind"),
    STEP_BUCKETS,
)
STORED = (REQUESTS, REQUEST_SECONDS, DB_QUERIES, THROTTLED, PLAYBACK_URLS, JOBS, STEP_SECONDS)

Increment = tuple[Series, tuple[str, ...], float]
_batch: ContextVar[list[Increment] | None] = ContextVar("affea_metrics_batch", default=None)


# A healthy Redis answers these writes in a millisecond; a hung one must cost every request
# (and /health/'s own deadline) as little as possible.
WRITE_TIMEOUT = 0.5


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    timeout = min(settings.REDIS_SOCKET_TIMEOUT, WRITE_TIMEOUT)
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def connection() -> redis.Redis:
    return _redis(settings.REDIS_URL)


def record(series: Series, labels: Sequence[str], value: float = 1.0) -> None:
    """Add `value` to a counter (or observe it in a histogram); batched inside `batch()`."""
    pending = _batch.get()
    item = (series, tuple(labels), value)
    if pending is None:
        _write([item])
    else:
        pending.append(item)


@contextmanager
def batch() -> Iterator[None]:
    """Write everything recorded inside the block in one Redis round trip at its end."""
    pending: list[Increment] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
        _write(pending)


def _write(items: list[Increment]) -> None:
    if not items:
        return
    pipe = connection().pipeline(transaction=False)
    for series, labels, value in items:
        key, field = PREFIX + series.name, json.dumps(labels)
        if not series.buckets:
            pipe.hincrbyfloat(key, field, value)
            continue
        bucket = next((i for i, le in enumerate(series.buckets) if value <= le), "inf")
        pipe.hincrby(key, f"{field}|{bucket}", 1)
        pipe.hincrbyfloat(key, f"{field}|sum", value)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        # Metrics must never fail the request or job they describe; /health/ reports Redis.
        logger.warning("metrics not recorded: %s", exc)


def playback_url_issued(*, mode: str) -> None:
    """Count one signed playback URL (`mode`: progressive or hls) by the signer in use."""
    if settings.STORAGE_BACKEND == "local":
        signer = "local"
    elif settings.CLOUDFRONT_DOMAIN and settings.CLOUDFRONT_KEY_PAIR_ID:
        signer = "cloudfront"
    else:
        signer = "s3"
    record(PLAYBACK_URLS, (mode, signer))


def _stored_families(conn: redis.Redis) -> Iterator[Metric]:
    pipe = conn.pipeline(transaction=False)
    for series in STORED:
        pipe.hgetall(PREFIX + series.name)
    for series, raw in zip(STORED, pipe.execute(), strict=True):
        fields = {k.decode(): float(v) for k, v in raw.items()}
        if not series.buckets:
            family = CounterMetricFamily(series.name, series.documentation, labels=series.labels)
            for field, value in sorted(fields.items()):
                family.add_metric(json.loads(field), value)
            yield family
            continue
        hist = HistogramMetricFamily(series.name, series.documentation, labels=series.labels)
        for field in sorted(f for f in fields if f.endswith("|sum")):
            labels = field[: -len("|sum")]
            counts = [fields.get(f"{labels}|{i}", 0.0) for i in range(len(series.buckets))]
            counts.append(fields.get(f"{labels}|inf", 0.0))
            running, buckets = 0.0, []
            for le, count in zip([*map(str, series.buckets), "+Inf"], counts, strict=True):
                running += count
                buckets.append((le, running))
            hist.add_metric(json.loads(labels), buckets, fields[field])
        yield hist


def _queue_families(conn: redis.Redis) -> Iterator[Metric]:
    jobs = GaugeMetricFamily(
        "affea_rq_jobs", "RQ jobs by queue and state, now.", labels=("queue", "state")
    )
    workers = GaugeMetricFamily(
        "affea_rq_workers", "RQ workers listening, by queue.", labels=("queue",)
    )
    for name in settings.RQ_QUEUES:
        queue = Queue(name, connection=conn)
        states = {
            "queued": queue.count,
            "started": queue.started_job_registry.count,
            "failed": queue.failed_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "deferred": queue.deferred_job_registry.count,
        }
        for state, count in states.items():
            jobs.add_metric((name, state), count)
        workers.add_metric((name,), Worker.count(queue=queue))
    yield jobs
    yield workers


def _film_families() -> Iterator[Metric]:
    from content_app.models import Film  # the web's apps are loaded when this runs

    films = GaugeMetricFamily("affea_films", "Films by processing state, now.", labels=("state",))
    counts = dict(Film.objects.order_by().values_list("processing_state").annotate(n=Count("id")))
    for state in Film._meta.get_field("processing_state").choices or []:
        films.add_metric((str(state[0]),), counts.get(state[0], 0))
    yield films


class AffeaCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        conn = connection()
        yield from _stored_families(conn)
        yield from _queue_families(conn)
        yield from _film_families()


_registry = CollectorRegistry(auto_describe=False)
_registry.register(AffeaCollector())


def _authorized(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve the metrics to a scraper holding METRICS_TOKEN; others learn nothing is here."""
    if not _authorized(request):
        return HttpResponse(status=404)
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
