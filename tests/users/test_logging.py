"""No password or token ever reaches the logs, across the whole account cycle."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

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
    client: Client, deliver: Deliver, caplog: pytest.LogCaptureFixture
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
