"""affea.api.exception_handler: a service out of reach is a 503; any other error a logged 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.http import HttpResponseBase
from django.test import Client
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

UNAVAILABLE = {
    "db-operational": OperationalError("connection to server failed"),
    "db-interface": InterfaceError("connection already closed"),
    "redis-connection": RedisConnectionError("Error 111 connecting to 127.0.0.1:6379."),
    "redis-timeout": RedisTimeoutError("Timeout reading from socket"),
    "s3-endpoint": EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    "s3-connect-timeout": ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
    "s3-read-timeout": ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
}
BUGS = {
    "db-integrity": IntegrityError('duplicate key value violates unique constraint "x"'),
    "db-programming": ProgrammingError('relation "missing" does not exist'),
    "db-data": DataError("value too long for type character varying(5)"),
    "s3-bad-parameter": ParamValidationError(report="Invalid bucket name"),
}


def _raising_view(error: Exception) -> Callable[..., HttpResponseBase]:
    class Raising(APIView):
        def get(self, request: Request) -> Response:
            raise error

    return Raising.as_view()


urlpatterns = [
    path(f"{name}/", _raising_view(error)) for name, error in {**UNAVAILABLE, **BUGS}.items()
]

pytestmark = pytest.mark.urls(__name__)


@pytest.mark.parametrize("name", UNAVAILABLE)
def test_a_service_out_of_reach_answers_503_json_with_retry_after(name: str) -> None:
    response = Client(raise_request_exception=False).get(f"/{name}/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "A service Affea depends on is unavailable; try again shortly."
    }


@pytest.mark.parametrize("name", BUGS)
def test_any_other_error_is_a_500_with_its_traceback_in_the_log(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client(raise_request_exception=False).get(f"/{name}/")

    assert response.status_code == 500
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[1] is BUGS[name]
