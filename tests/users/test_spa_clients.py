"""What SPA clients of this API family do: sign-up typing, cross-site refusal, CORS,
mailed links that land in the SPA the viewer used."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.users.conftest import PASSWORD, Deliver, confirm_link_parts, link_from_outbox
from users_app.models import User

pytestmark = pytest.mark.django_db

SPA = "http://localhost:4200"
ROUTES = {"login": "/login", "reset_password": "/reset-password"}


@pytest.fixture
def spa_client(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    settings.SPA_CLIENTS = {SPA: ROUTES}


def _register(client: Client, email: str, **headers: Any) -> Any:
    body = {"email": email, "password": PASSWORD, "confirm_password": PASSWORD}
    return client.post("/api/users/register/", body, content_type="application/json", **headers)


# --- Login CSRF ------------------------------------------------------------------


def test_login_with_a_cross_site_form_body_is_refused(client: Client, user: User) -> None:
    form = {"email": user.email, "password": PASSWORD}
    response = client.post("/api/users/login/", form)  # urlencoded, no Origin
    assert response.status_code == 415
    assert "access_token" not in response.cookies
    multipart = client.post("/api/users/login/", form, HTTP_ORIGIN="https://evil.example")
    assert multipart.status_code == 403


def test_login_from_a_foreign_origin_is_403_even_with_json(client: Client, user: User) -> None:
    response = client.post(
        "/api/users/login/",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert "access_token" not in response.cookies


def test_register_with_a_cross_site_form_body_is_refused(client: Client) -> None:
    body = {"email": "new@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    assert client.post("/api/users/register/", body).status_code == 415
    assert (
        _register(client, "new@example.com", HTTP_ORIGIN="https://evil.example").status_code == 403
    )
    assert not User.objects.filter(email="new@example.com").exists()


def test_login_from_an_allowed_spa_origin_works(
    client: Client, user: User, spa_client: None
) -> None:
    response = client.post(
        "/api/users/login/",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_ORIGIN=SPA,
    )
    assert response.status_code == 200


# --- email-exists while the viewer types -------------------------------------------


def test_email_exists_allows_a_sign_up_form_typing_ten_times_a_minute(client: Client) -> None:
    typed = ["a@b.co", "an@b.co", "ann@b.co", "ann@ba.co", "ann@bar.co", "ann@bar.com"]
    answers = [client.get("/api/users/email-exists/", {"email": e}) for e in typed * 2]
    assert [a.status_code for a in answers] == [200] * 12


def test_email_exists_is_capped_per_ip_over_an_hour(client: Client, settings: Any) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {
        **settings.ACCOUNT_THROTTLE_RATES,
        "email_exists": {"ip": (100, 60), "ip_hour": (12, 3600), "global": (1000, 60)},
    }
    for n in range(12):
        assert client.get("/api/users/email-exists/", {"email": f"u{n}@x.co"}).status_code == 200
    throttled = client.get("/api/users/email-exists/", {"email": "last@x.co"})
    assert throttled.status_code == 429
    assert 3000 < int(throttled["Retry-After"]) <= 3600


def test_email_exists_has_a_global_cap_across_addresses(client: Client, settings: Any) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {
        **settings.ACCOUNT_THROTTLE_RATES,
        "email_exists": {"ip": (100, 60), "global": (3, 60)},
    }
    for n in range(3):
        client.get("/api/users/email-exists/", {"email": f"u{n}@x.co"}, REMOTE_ADDR=f"10.0.0.{n}")
    response = client.get("/api/users/email-exists/", {"email": "z@x.co"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429


# --- CORS ----------------------------------------------------------------------------


def test_preflight_allows_the_spas_headers_and_is_cached(client: Client, spa_client: None) -> None:
    response = client.options(
        "/api/users/refresh/",
        HTTP_ORIGIN=SPA,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-retry",
    )
    assert response["Access-Control-Allow-Origin"] == SPA
    allowed = response["Access-Control-Allow-Headers"]
    assert "content-type" in allowed
    assert "x-retry" in allowed
    assert int(response["Access-Control-Max-Age"]) > 0


def test_an_spa_on_another_origin_may_read_retry_after_and_the_request_id(
    client: Client, settings: Any, spa_client: None
) -> None:
    settings.ACCOUNT_THROTTLE_RATES = {
        **settings.ACCOUNT_THROTTLE_RATES,
        "email_exists": {"ip": (1, 60), "global": (1000, 60)},
    }
    client.get("/api/users/email-exists/", {"email": "a@x.co"}, HTTP_ORIGIN=SPA)
    throttled = client.get("/api/users/email-exists/", {"email": "b@x.co"}, HTTP_ORIGIN=SPA)
    assert throttled.status_code == 429
    assert throttled["Access-Control-Allow-Origin"] == SPA
    exposed = {h.strip().lower() for h in throttled["Access-Control-Expose-Headers"].split(",")}
    assert {"retry-after", "x-request-id"} <= exposed
    assert "Retry-After" in throttled
    assert "X-Request-ID" in throttled


def test_cors_never_reflects_an_unlisted_origin(client: Client, spa_client: None) -> None:
    for method in (client.options, client.get):
        response = method("/api/users/me/", HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response


# --- Mailed links ------------------------------------------------------------------


def test_reset_link_of_a_request_from_a_configured_spa_goes_to_its_route(
    client: Client, user: User, deliver: Deliver, spa_client: None
) -> None:
    deliver(
        lambda: client.post(
            "/api/users/forgot-password/",
            {"email": user.email},
            content_type="application/json",
            HTTP_ORIGIN=SPA,
        )
    )
    link = link_from_outbox(rf"{SPA}/reset-password\?uid=(?P<uid>[^&\s]+)&token=(?P<token>\S+)")
    reset = client.post(
        "/api/users/reset-password/",
        {**link.groupdict(), "new_password": "lantern-harbour-58"},
        content_type="application/json",
    )
    assert reset.status_code == 200


def test_confirmation_from_a_configured_spa_sends_the_viewer_on_to_its_login(
    client: Client, deliver: Deliver, spa_client: None
) -> None:
    deliver(lambda: _register(client, "new@example.com", HTTP_ORIGIN=SPA))
    link = link_from_outbox(r"http://\S+/accounts/confirm/\S+").group(0)
    assert f"client={SPA.replace(':', '%3A').replace('/', '%2F')}" in link

    page = Client()
    landing = page.get(link.removeprefix("http://127.0.0.1:8000"))  # the token moves away
    confirmed = page.post(landing["Location"])

    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"{SPA}/login"
    assert User.objects.get(email="new@example.com").is_active


def test_a_configured_spa_confirm_route_gets_the_link_itself(
    client: Client, deliver: Deliver, settings: Any
) -> None:
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    settings.SPA_CLIENTS = {SPA: {**ROUTES, "confirm": "/confirm"}}
    deliver(lambda: _register(client, "new@example.com", HTTP_ORIGIN=SPA))
    link = link_from_outbox(rf"{SPA}/confirm\?uid=(?P<uid>[^&\s]+)&token=(?P<token>\S+)")
    response = client.post("/api/users/confirm/", link.groupdict(), content_type="application/json")
    assert response.status_code == 200


def test_without_the_setting_links_stay_on_affea(client: Client, deliver: Deliver) -> None:
    deliver(lambda: _register(client, "new@example.com", HTTP_ORIGIN="http://testserver"))
    assert confirm_link_parts()
    assert "client=" not in str(mail.outbox[-1].body)


def test_a_forged_client_parameter_never_redirects_elsewhere(
    client: Client, deliver: Deliver, spa_client: None
) -> None:
    deliver(lambda: _register(client, "new@example.com"))
    parts = confirm_link_parts()
    page = Client()
    landing = page.get(
        f"/accounts/confirm/{parts['uid']}/{parts['token']}/?client=https://evil.example"
    )
    confirmed = page.post(landing["Location"])
    assert confirmed["Location"] == "/accounts/login/"
