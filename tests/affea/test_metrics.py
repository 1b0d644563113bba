"""/metrics: Prometheus text behind a bearer token; series move with requests, jobs and films."""

from __future__ import annotations

import django_rq
import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from affea import metrics
from content_app import playback
from content_app.models import Film
from tests.content.conftest import make_video, run_jobs, upload  # noqa: F401  (fixtures)

TOKEN = "scrape-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def _token(settings) -> None:
    settings.METRICS_TOKEN = TOKEN


def scrape(client: Client) -> Samples:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}"])
def test_metrics_answer_404_without_the_bearer_token(client: Client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    assert client.get("/metrics", headers=headers).status_code == 404


@pytest.mark.django_db
def test_metrics_are_off_when_no_token_is_configured(client: Client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.django_db
def test_request_moves_count_latency_and_query_series_of_its_view(client: Client) -> None:
    before = scrape(client)
    assert client.get("/api/content/").status_code == 200
    after = scrape(client)

    view = "content_api:film-list"
    labels = {"view": view, "method": "GET", "status": "200"}
    assert value(after, "affea_http_requests_total", **labels) == (
        value(before, "affea_http_requests_total", **labels) + 1
    )
    count = "affea_http_request_duration_seconds_count"
    assert value(after, count, view=view) == value(before, count, view=view) + 1
    assert value(after, "affea_http_request_duration_seconds_bucket", view=view, le="+Inf") >= 1
    assert value(after, "affea_db_queries_total", view=view) > value(
        before, "affea_db_queries_total", view=view
    )


@pytest.mark.django_db
def test_unmatched_paths_share_one_label(client: Client) -> None:
    client.get("/no-such-page-1/")
    client.get("/no-such-page-2/")
    samples = scrape(client)
    labels = {"view": "unmatched", "method": "GET", "status": "404"}
    assert value(samples, "affea_http_requests_total", **labels) == 2


@pytest.mark.django_db
def test_refused_request_counts_as_throttled(client: Client, settings) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {
        **settings.ACCOUNT_THROTTLE_RATES,
        "email_exists": {"ip": (1, 60), "account": (10, 60)},
    }
    for _ in range(2):
        last = client.get("/api/users/email-exists/", {"email": "a@example.com"})
    assert last.status_code == 429
    samples = scrape(client)
    view = "users_api:email_exists"
    assert value(samples, "affea_throttled_requests_total", view=view) == 1


@pytest.mark.django_db
def test_queue_depth_is_read_live_from_redis(client: Client) -> None:
    Queue("default", connection=django_rq.get_connection()).enqueue(
        "content_app.tasks.delete_objects", [], []
    )
    samples = scrape(client)
    assert value(samples, "affea_rq_jobs", queue="default", state="queued") == 1
    assert value(samples, "affea_rq_jobs", queue="default", state="failed") == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_processed_film_moves_step_job_state_and_playback_series(
    client: Client,
    make_video,  # noqa: F811
    upload,  # noqa: F811
    run_jobs,  # noqa: F811
) -> None:
    before = scrape(client)
    film = Film.objects.create(title="Counted", slug="counted", source=upload(make_video()))
    run_jobs()
    film.refresh_from_db()
    ready = {r.quality: r.media_key for r in film.renditions.all() if r.media_key}
    playback.video_url(renditions=ready, quality=None)
    after = scrape(client)

    assert value(after, "affea_films", state="ready") == 1
    step = "affea_pipeline_step_duration_seconds_count"
    for name in ("source", "probe", "120p", "images"):
        labels = {"step": name, "outcome": "ok", "failure_kind": ""}
        assert value(after, step, **labels) == value(before, step, **labels) + 1
    job = "affea_rq_jobs_finished_total"
    probe = {"task": "content_app.tasks.probe_film", "outcome": "ok"}
    assert value(after, job, **probe) == value(before, job, **probe) + 1
    assert value(after, "affea_playback_urls_issued_total", mode="progressive", signer="s3") == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_source_that_is_not_a_video_counts_as_a_media_failure_of_the_probe(
    client: Client,
    upload,  # noqa: F811
    run_jobs,  # noqa: F811
) -> None:
    Film.objects.create(title="Text", slug="text", source=upload(content=b"not a video" * 50))
    run_jobs()
    samples = scrape(client)
    labels = {"step": "probe", "outcome": "error", "failure_kind": "media"}
    assert value(samples, "affea_pipeline_step_duration_seconds_count", **labels) == 1
    assert value(samples, "affea_films", state="error") == 1


def test_recording_survives_a_dead_redis(settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    metrics.record(metrics.THROTTLED, ("some-view",))  # logs a warning, raises nothing


@pytest.mark.django_db
def test_prometheus_scrapes_plain_http_though_the_site_redirects_to_https(
    client: Client, settings
) -> None:
    # Prometheus reaches gunicorn on the compose network: a redirect to https failed its TLS.
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/legal/dmca/", secure=False).status_code == 301
    assert client.get("/metrics", headers=AUTH, secure=False).status_code == 200
