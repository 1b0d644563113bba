"""Numbers clients send: text that is no ASCII number is "not a number", never a 500."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from affea.numbers import parse_id
from tests.content.factories import make_film

# "²" is a digit to str.isdigit() and not to int(); int() refuses more than 4300 digits.
SUPERSCRIPT, TOO_LONG = "²", "9" * 5000


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", 12), ("007", 7), ("9" * 18, 10**18 - 1), (SUPERSCRIPT, None), ("9" * 19, None),
     (TOO_LONG, None), ("-1", None), ("1e3", None), (" 1", None), ("", None), ("١٢", None)],
)  # fmt: skip
def test_parse_id_takes_ascii_digits_within_a_bigint(text: str, number: int | None) -> None:
    assert parse_id(text) == number


@pytest.mark.django_db
@pytest.mark.parametrize("value", [SUPERSCRIPT, TOO_LONG])
@pytest.mark.parametrize(
    "path",
    ["/?category={}", "/search/?category={}", "/api/content/?category={}",
     "/oembed?url={page}&maxwidth={}", "/oembed?url={page}&maxheight={}"],
)  # fmt: skip
def test_viewer_paths_answer_odd_numbers(client: Client, path: str, value: str) -> None:
    film = make_film(public_playback=True)
    page = f"{settings.SITE_URL}/films/{film.slug}/"

    response = client.get(path.format(value, page=page))

    assert response.status_code in (200, 400), response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("uid", ["wrI", "OTk5OTk5OTk5OTk5OTk5OTk5OTk"])  # "²"; 20 nines
@pytest.mark.parametrize("path", ["/api/users/confirm/", "/api/users/reset-password/"])
def test_account_links_with_an_odd_uid_are_a_400(client: Client, path: str, uid: str) -> None:
    body = {"uid": uid, "token": "x", "new_password": "Abcdefgh123!xyz"}

    response = client.post(path, json.dumps(body), content_type="application/json")

    assert response.status_code == 400, response.content
    assert "token" in response.json()


@pytest.mark.django_db
def test_staff_endpoints_answer_odd_numbers(admin_client: Client) -> None:
    status = reverse("admin:content_app_film_status")
    begin = reverse("admin:content_app_film_upload_begin", args=["new"])
    body = '{"filename": "a.mp4", "metadata": {"size": 1e400}}'  # infinity to Python

    assert admin_client.get(f"{status}?ids={TOO_LONG},{SUPERSCRIPT}").json() == {"films": []}
    assert admin_client.post(begin, body, content_type="application/json").status_code == 400
    change = reverse("admin:content_app_film_change", args=[SUPERSCRIPT])
    assert admin_client.get(change).status_code in (302, 404)


@pytest.mark.django_db
def test_a_variant_playlist_of_a_film_id_past_a_bigint_is_a_404(client: Client) -> None:
    response = client.get(f"/api/content/{TOO_LONG}/hls/360p.m3u8", {"token": "x"})

    assert response.status_code == 404
