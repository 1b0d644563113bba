"""The terms API: current versions, acceptance, profile fields, registration and enforcement."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from legal_app.models import LegalDocumentKind, TermsAcceptance
from tests.legal.terms_factories import PASSWORD, published, viewer
from users_app.models import User

pytestmark = pytest.mark.django_db


def _login(client: Client, user: User) -> dict[str, Any]:
    response = client.post(
        "/api/users/login/", {"email": user.email, "password": PASSWORD}, "application/json"
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_current_terms_and_privacy_have_version_time_and_html(client: Client) -> None:
    published("1", "Old.")
    document = published("2", "Use *kindly*.")
    published("p1", "Little data.", kind=LegalDocumentKind.PRIVACY)

    terms = client.get("/api/legal/terms/").json()
    privacy = client.get("/api/legal/privacy/").json()

    assert terms["version"] == "2"
    assert terms["html"] == "<p>Use <em>kindly</em>.</p>\n"
    assert terms["published_at"].startswith(f"{document.published_at:%Y-%m-%dT%H:%M:%S}")
    assert privacy["version"] == "p1"


def test_unpublished_terms_answer_404_with_a_clear_detail(client: Client) -> None:
    response = client.get("/api/legal/terms/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No terms of service has been published yet."}


def test_login_and_me_tell_the_client_about_new_terms(client: Client) -> None:
    user = viewer()
    TermsAcceptance.objects.create(user=user, document=published("1"))

    assert _login(client, user) | {"favorite_videos": []} == {
        "id": user.pk,
        "email": user.email,
        "username": user.display_name,
        "favorite_videos": [],
        "terms_version": "1",
        "terms_accepted": True,
    }
    published("2")
    me = client.get("/api/users/me/").json()
    assert (me["terms_version"], me["terms_accepted"]) == ("2", False)


def test_without_published_terms_the_profile_says_nothing_to_accept(client: Client) -> None:
    body = _login(client, viewer())

    assert (body["terms_version"], body["terms_accepted"]) == (None, True)


def test_accepting_the_current_version_answers_204(client: Client) -> None:
    user = viewer()
    published("1")
    _login(client, user)

    response = client.post("/api/legal/terms/accept/", {"version": "1"}, "application/json")

    assert response.status_code == 204
    assert client.get("/api/users/me/").json()["terms_accepted"] is True
    again = client.post("/api/legal/terms/accept/", {"version": "1"}, "application/json")
    assert again.status_code == 204
    assert TermsAcceptance.objects.filter(user=user).count() == 1


def test_accepting_another_version_is_400_and_anonymous_is_401(client: Client) -> None:
    published("1")
    published("2")
    anonymous = client.post("/api/legal/terms/accept/", {"version": "2"}, "application/json")
    _login(client, viewer())

    old = client.post("/api/legal/terms/accept/", {"version": "1"}, "application/json")

    assert anonymous.status_code == 401
    assert old.status_code == 400
    assert "version" in old.json()


def test_api_registration_records_acceptance_with_the_proxied_client_address(
    client: Client, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    document = published("1")
    body = {"email": "new@example.com", "password": PASSWORD, "confirm_password": PASSWORD}

    response = client.post(
        "/api/users/register/",
        body,
        "application/json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.77",
    )

    assert response.status_code == 201
    acceptance = TermsAcceptance.objects.get(user__email="new@example.com")
    assert (acceptance.document, acceptance.ip) == (document, "192.0.2.77")


def test_registration_rolls_back_when_acceptance_cannot_be_recorded(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    published("1")

    def refuse(**kwargs: object) -> None:
        raise RuntimeError("record unavailable")

    monkeypatch.setattr("legal_app.terms.services.event_record", refuse)
    body = {"email": "new@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    with pytest.raises(RuntimeError):
        client.post("/api/users/register/", body, "application/json")

    assert not User.objects.filter(email="new@example.com").exists()


def test_enforcement_off_lets_a_viewer_who_has_not_accepted_call_the_api(
    client: Client, settings: Settings
) -> None:
    settings.TERMS_ENFORCE_API = False
    published("1")
    _login(client, viewer())

    assert client.get("/api/content/favorites/").status_code == 200


def test_enforcement_on_refuses_other_calls_until_the_viewer_accepts(
    client: Client, settings: Settings
) -> None:
    settings.TERMS_ENFORCE_API = True
    published("1")
    _login(client, viewer())

    refused = client.get("/api/content/favorites/")
    me = client.get("/api/users/me/")
    terms = client.get("/api/legal/terms/")
    client.post("/api/legal/terms/accept/", {"version": "1"}, "application/json")
    allowed = client.get("/api/content/favorites/")

    assert refused.status_code == 403
    assert refused.json()["code"] == "terms_not_accepted"
    assert refused.json()["detail"]
    assert me.status_code == 200
    assert terms.status_code == 200
    assert allowed.status_code == 200


def test_enforcement_on_leaves_anonymous_calls_alone(client: Client, settings: Settings) -> None:
    settings.TERMS_ENFORCE_API = True
    published("1")

    assert client.get("/api/content/favorites/").status_code == 401
    assert client.get("/api/content/").status_code == 200
