"""JSON logs: one object per line, a request id that follows the request into its jobs."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from affea.logging import bind_request_id
from content_app.models import Film
from tests.conftest import JSONLog
from tests.content.conftest import make_video, run_jobs, upload  # noqa: F401  (fixtures)
from tests.users.conftest import run_queued_jobs


@pytest.mark.django_db
def test_request_id_comes_in_goes_out_and_is_on_the_request_lines(
    client: Client, json_log: JSONLog
) -> None:
    response = client.get("/no-such-page/", headers={"X-Request-ID": "edge-42.a"})

    assert response["X-Request-ID"] == "edge-42.a"
    lines = [r for r in json_log.records() if r["logger"] == "django.request"]
    assert lines
    assert all(r["request_id"] == "edge-42.a" for r in lines)
    assert {"time", "level", "message"} <= set(lines[0])
    # The request object Django attaches would put the full path in the line.
    assert "request" not in lines[0]


@pytest.mark.django_db
def test_unsafe_request_id_is_replaced_by_a_fresh_one(client: Client) -> None:
    response = client.get("/health/", headers={"X-Request-ID": "x" * 65})
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/health/")["X-Request-ID"] != response["X-Request-ID"]


# Real commits: the mail job is enqueued on commit, inside the request, as in production.
@pytest.mark.django_db(transaction=True)
def test_request_id_follows_the_request_into_the_job_it_enqueued(
    client: Client, json_log: JSONLog
) -> None:
    body = {"email": "follow@example.com", "password": "kettle-orchard-91"}
    response = client.post(
        "/api/users/register/",
        {**body, "confirm_password": body["password"]},
        content_type="application/json",
        headers={"X-Request-ID": "signup-7"},
    )
    assert response.status_code == 201
    assert run_queued_jobs() == 1

    job_lines = [r for r in json_log.records() if "job_id" in r]
    assert job_lines
    assert all(r["request_id"] == "signup-7" for r in job_lines)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_pipeline_job_line_names_its_film_and_step(
    json_log: JSONLog,
    make_video,  # noqa: F811
    upload,  # noqa: F811
    run_jobs,  # noqa: F811
) -> None:
    bind_request_id("upload-9")
    try:
        film = Film.objects.create(title="Logged", slug="logged", source=upload(make_video()))
    finally:
        bind_request_id(None)
    logging.getLogger("tests").info("outside any job")
    run_jobs()

    job_lines = [r for r in json_log.records() if "job_id" in r]
    steps = {r.get("step") for r in job_lines}
    assert {"source", "probe", "120p", "images"} <= steps
    assert all(r["film_id"] == film.pk for r in job_lines)
    assert all(r["request_id"] == "upload-9" for r in job_lines)
    outside = next(r for r in json_log.records() if r["message"] == "outside any job")
    assert "film_id" not in outside
    assert "request_id" not in outside
