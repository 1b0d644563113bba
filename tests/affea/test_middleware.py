"""Middleware of the project: what it answers before any view runs."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.content.factories import make_film, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "address",
    [
        "/admin/content_app/film/?processing_state__exact=%00",
        "/admin/legal_app/notice/?state__exact=%00",
        "/admin/legal_app/legalevent/?kind__exact=x%00y",
        "/admin/content_app/film/?%00=1",
    ],
)
def test_an_admin_address_with_a_nul_is_a_400_not_a_500(client: Client, address: str) -> None:
    make_film()
    staff = make_user(staff=True)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    response = client.get(address)

    assert response.status_code == 400
    assert b"NUL character" in response.content
    # Without the NUL the same list answers (an unknown value: the admin's own "?e=1").
    assert client.get(address.replace("%00", "")).status_code in (200, 302)
