"""Sentry: with a DSN, unhandled view errors and failed jobs reach it, without personal data."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import django_rq
import pytest
import sentry_sdk
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from rq import SimpleWorker

from affea.localdev import free_port
from affea.sentry import init_sentry


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("view-boom")


def failing_job() -> None:
    raise RuntimeError("job-boom")


urlpatterns = [path("broken/", broken_view)]


class StandIn:
    """A local Sentry endpoint that keeps every envelope it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        envelopes = self.envelopes

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                envelopes.append(body.decode("utf-8", "replace"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.port}/1"

    def received(self) -> str:
        sentry_sdk.flush(timeout=5)
        return "\n".join(self.envelopes)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    sentry_sdk.init()  # no DSN: the rest of the suite reports nothing
    server.server.shutdown()


def _raise_in_view(client: Client) -> None:
    client.raise_request_exception = False
    client.cookies["sessionid"] = "secret-session-cookie"
    response = client.get(
        "/broken/?email=viewer@example.com", headers={"Authorization": "Bearer secret-jwt"}
    )
    assert response.status_code == 500


@pytest.mark.urls("tests.affea.test_sentry")
@pytest.mark.django_db
def test_unhandled_view_error_reaches_sentry_without_personal_data(
    client: Client, stand_in: StandIn
) -> None:
    init_sentry(dsn=stand_in.dsn, environment="test")
    _raise_in_view(client)

    received = stand_in.received()
    assert "view-boom" in received
    assert '"environment":"test"' in received
    for personal in ("secret-session-cookie", "secret-jwt", "viewer@example.com"):
        assert personal not in received


@pytest.mark.django_db(transaction=True)  # django-rq enqueues on commit
def test_failed_job_reaches_sentry(stand_in: StandIn) -> None:
    init_sentry(dsn=stand_in.dsn, environment="test")
    queue = django_rq.get_queue("default")
    queue.enqueue("tests.affea.test_sentry.failing_job")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)

    assert "job-boom" in stand_in.received()


@pytest.mark.urls("tests.affea.test_sentry")
@pytest.mark.django_db
def test_without_a_dsn_nothing_is_sent(client: Client, stand_in: StandIn) -> None:
    sentry_sdk.init()
    init_sentry(dsn="", environment="test")
    _raise_in_view(client)

    assert stand_in.received() == ""
