"""The public DMCA page: the agent and the process, and a form naming each missing element."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from content_app.models import Film
from legal_app.dmca.elements import NOTICE_ELEMENTS
from legal_app.models import Notice
from tests.content.factories import make_film
from tests.legal.dmca_support import notice_payload

pytestmark = pytest.mark.django_db
URL = "/legal/dmca/"


@pytest.fixture
def film() -> Film:
    return make_film(title="Harbour Copy")


def _form(data: dict[str, Any]) -> dict[str, Any]:
    """What a browser posts: ticked checkboxes as "on", unticked ones left out."""
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


@override_settings(
    DMCA_AGENT_NAME="Ada Agent",
    DMCA_AGENT_ADDRESS="9 Agent Street, Boston, MA",
    DMCA_AGENT_EMAIL="agent@affea.example",
    DMCA_AGENT_PHONE="+1 617 555 0100",
)
def test_the_page_shows_the_designated_agent_and_explains_the_process() -> None:
    page = Client().get(URL).content.decode()

    for detail in ("Ada Agent", "9 Agent Street, Boston, MA", "agent@affea.example", "617 555"):
        assert detail in page
    assert "What happens next" in page
    assert "counter-notice" in page
    assert 'name="website"' in page
    assert "hidden" in page


def test_a_complete_form_shows_the_reference(film: Film) -> None:
    response = Client().post(URL, _form(notice_payload(film)))

    assert response.status_code == 200
    notice = Notice.objects.get()
    assert notice.reference in response.content.decode()


@pytest.mark.parametrize("element", list(NOTICE_ELEMENTS))
def test_each_missing_element_is_a_form_error_naming_it(film: Film, element: str) -> None:
    data = _form(notice_payload(film))
    data.pop(element, None)

    response = Client().post(URL, data)

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {element}
    assert NOTICE_ELEMENTS[element] in response.content.decode()
    assert not Notice.objects.exists()


def test_an_unknown_film_is_named_on_the_form(film: Film) -> None:
    data = _form(notice_payload(film, infringing_material="/films/nowhere/"))

    response = Client().post(URL, data)

    assert response.status_code == 400
    assert "We found no film on Affea for: /films/nowhere/." in response.content.decode()


def test_the_honeypot_shows_thanks_and_stores_nothing(film: Film) -> None:
    response = Client().post(URL, _form(notice_payload(film, website="x")))

    assert response.status_code == 200
    assert not Notice.objects.exists()


@override_settings(ACCOUNT_THROTTLE_RATES={"dmca_notice": {"ip": (1, 3600)}})
def test_the_form_is_throttled_per_ip(film: Film) -> None:
    Client().post(URL, {})

    response = Client().post(URL, _form(notice_payload(film)))

    assert response.status_code == 429
    assert "Too many submissions" in response.content.decode()
    assert not Notice.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"infringing_material": "\x00"},
        {"email": ["a", "b"], "good_faith": "nonsense"},
        {"infringing_material": "9" * 5000},
        {"signature": "x" * 10_000},
        {"infringing_material": "²"},
        {"infringing_material": "http://[affea.example/films/x/"},
    ],
    ids=["NUL", "wrong types", "long number", "long signature", "superscript", "broken URL"],
)
def test_garbage_on_the_form_is_never_a_500(film: Film, data: dict[str, Any]) -> None:
    assert Client().post(URL, data).status_code == 400
