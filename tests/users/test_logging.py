"""No password or token ever reaches the logs, across the whole account cycle."""

from __future__ import annotations

import importlib.util
import io
import logging
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from django.test import Client
from gunicorn.config import Config

from tests.conftest import JSONLog
from tests.users.conftest import (
    PASSWORD,
    Deliver,
    confirm_link_parts,
    cookie,
    login,
    reset_link_parts,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-harbour-58"


def test_account_cycle_writes_no_password_or_token_to_logs(
    client: Client, deliver: Deliver, caplog: pytest.LogCaptureFixture, json_log: JSONLog
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"email": "log@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    deliver(lambda: client.post("/api/users/register/", body, content_type="application/json"))
    confirm = confirm_link_parts()
    client.post("/api/users/confirm/", confirm, content_type="application/json")
    client.post(  # a failed login is logged as a bad request, without its body
        "/api/users/login/",
        {"email": "log@example.com", "password": "wrong-" + PASSWORD},
        content_type="application/json",
    )
    logged_in = login(client, "log@example.com")
    refreshed = client.post("/api/users/refresh/")
    deliver(
        lambda: client.post(
            "/api/users/forgot-password/",
            {"email": "log@example.com"},
            content_type="application/json",
        )
    )
    reset = reset_link_parts()
    client.post(
        "/api/users/reset-password/",
        {**reset, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )
    client.post("/api/users/reset-password/", {**reset, "new_password": NEW_PASSWORD})

    secrets = [
        PASSWORD,
        NEW_PASSWORD,
        confirm["token"],
        reset["token"],
        cookie(logged_in, "access_token").value,
        cookie(logged_in, "refresh_token").value,
        cookie(refreshed, "refresh_token").value,
    ]
    assert caplog.records  # the cycle did log (requests, worker jobs)
    for secret in secrets:
        assert secret not in caplog.text
    # The same cycle as production writes it (LOG_FORMAT=json): extra fields included.
    assert len(json_log.records()) >= len(caplog.records)
    for secret in secrets:
        assert secret not in json_log.text


def _gunicorn_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf", Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_access_log_keeps_playlist_and_link_tokens_out() -> None:
    config = _gunicorn_config()
    logged = io.StringIO()
    gunicorn_settings = Config()
    gunicorn_settings.set("accesslog", "-")
    logger = config.RedactingLogger(gunicorn_settings)
    logger.access_log.handlers = [logging.StreamHandler(logged)]
    requests = [
        ("/api/content/7/hls/360p.m3u8", "token=secret-hls-token"),
        ("/films/7/subtitles/en.m3u8", "token=secret-subtitle-token"),
        ("/accounts/confirm/MQ/secret-link-token/", ""),
    ]
    for path, query in requests:
        request = SimpleNamespace(
            method="GET", uri=f"{path}?{query}" if query else path, path=path, query=query,
            version=(1, 1), headers=[],
        )  # fmt: skip
        response = SimpleNamespace(status="200 OK", sent=10, headers=[])
        environ = {
            "REMOTE_ADDR": "127.0.0.1",
            "RAW_URI": request.uri,
            "REQUEST_METHOD": "GET",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        logger.access(response, request, environ, timedelta(seconds=0.01))

    text = logged.getvalue()
    assert "secret-" not in text
    assert "/api/content/7/hls/360p.m3u8?[redacted]" in text
    assert "/films/7/subtitles/en.m3u8?token=[redacted]" in text
