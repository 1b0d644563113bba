"""OpenAPI: the schema validates, the docs UI is self-hosted, generated requests never 500,
and every documented response has the shape and content type the schema gives it."""

from __future__ import annotations

import io

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from affea.wsgi import application
from tests.content.factories import make_category, make_film, make_user

CONTENT_PATHS = {
    "/api/content/",
    "/api/content/{id}/",
    "/api/content/categories/",
    "/api/content/add-favorite/",
    "/api/content/favorites/",
    "/api/content/{id}/progress/",
    "/api/content/continue-watching/",
    "/api/content/video-url/{id}/",
    "/api/content/{id}/hls/master.m3u8",
}


def test_schema_validates_and_documents_every_content_endpoint(tmp_path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(target), stderr=io.StringIO())

    schema = yaml.safe_load(target.read_text())

    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= CONTENT_PATHS


@pytest.mark.django_db
def test_schema_endpoint_serves_openapi(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert set(response.json()["paths"]) >= CONTENT_PATHS


@pytest.mark.django_db
def test_docs_ui_is_served_from_our_own_static_files(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


@pytest.fixture
def catalogue(db):
    """A viewer's token and a few films, so generated ids sometimes hit real rows."""
    # Requests go through the real WSGI handler, which closes the database connection
    # after each one; inside the test's transaction it must stay open (as Django's
    # test client arranges for itself).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = make_user()
    category = make_category()
    for _ in range(3):
        make_film(category=category, duration=100)
    # schemathesis' WSGI transport hands bodies over without undoing Content-Encoding,
    # which a real HTTP client does: ask for the identity encoding.
    yield {"Authorization": f"Bearer {AccessToken.for_user(user)}", "Accept-Encoding": "identity"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_generated_requests_never_get_a_server_error_and_conform_to_the_schema(
    catalogue: dict[str, str],
) -> None:
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application)
    cases = 0

    for result in loaded.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # a broken schema fails here

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            derandomize=True,  # the same cases every run: a failure reproduces
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(
                headers=catalogue,
                checks=[
                    not_a_server_error,
                    response_schema_conformance,
                    content_type_conformance,
                ],
            )

        call()

    assert cases >= 200
