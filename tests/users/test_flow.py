"""The whole account cycle through the test client, with mail sent by an RQ worker."""

from __future__ import annotations

import django_rq
import pytest
from django.core import mail
from django.test import Client

from tests.users.conftest import PASSWORD, confirm_link_parts, cookie, login, run_queued_jobs


@pytest.mark.django_db(transaction=True)
def test_register_confirm_login_refresh_logout_cycle(client: Client) -> None:
    body = {"email": "cycle@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    assert (
        client.post("/api/users/register/", body, content_type="application/json").status_code
        == 201
    )

    # The request only enqueued the mail; the worker sends it.
    assert mail.outbox == []
    assert django_rq.get_queue("default").count == 1
    assert run_queued_jobs() == 1
    assert len(mail.outbox) == 1

    confirm = client.post(
        "/api/users/confirm/", confirm_link_parts(), content_type="application/json"
    )
    assert confirm.status_code == 200

    logged_in = login(client, "cycle@example.com")
    assert logged_in.status_code == 200
    assert client.get("/api/users/me/").json()["email"] == "cycle@example.com"

    refreshed = client.post("/api/users/refresh/")
    assert refreshed.status_code == 200
    assert cookie(refreshed, "refresh_token").value != cookie(logged_in, "refresh_token").value

    assert client.post("/api/users/logout/").status_code == 200
    assert client.get("/api/users/me/").status_code == 401
    assert client.post("/api/users/refresh/").status_code == 401
