"""Whatever body is posted, the API answers a JSON 4xx: never a 500, never an HTML page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.content.factories import make_user

pytestmark = pytest.mark.django_db

BODIES = {
    "nested too deeply": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "not UTF-8": (b'{"email": "\xff\xfe"}', "application/json"),
    "larger than the limit": (
        b'{"email": "a"' + b" " * (11 * 1024 * 1024) + b"}",
        "application/json",
    ),
    "not JSON": (b"\x00\x01garbage", "application/json"),
    "a list instead of an object": (b"[1, 2, 3]", "application/json"),
    "a long form": (b"email=a&" * 2000, "application/x-www-form-urlencoded"),
}
PATHS = ["/api/users/login/", "/api/users/register/", "/api/content/add-favorite/"]


@pytest.mark.parametrize("body", list(BODIES))
@pytest.mark.parametrize("path", PATHS)
def test_a_bad_body_gets_a_json_client_error(path: str, body: str) -> None:
    data, content_type = BODIES[body]
    api = APIClient()
    api.force_authenticate(make_user())

    # The stubs say str; Django sends bytes exactly as given, which is the point here.
    response = api.generic("POST", path, data, content_type=content_type)  # type: ignore[arg-type]

    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert body  # "detail" or the fields at fault, in words
