"""Counter-notices (§512(g)(3)): form and API, every element required, a copy to the sender."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from legal_app.dmca import services
from legal_app.dmca.elements import COUNTER_NOTICE_ELEMENTS
from legal_app.models import CounterNotice, LegalEvent, LegalEventKind, Takedown
from tests.content.factories import make_film, make_user
from tests.legal.dmca_support import (
    counter_payload,
    counter_submit,
    notice_accept_naming,
    run_queued_jobs,
)

pytestmark = pytest.mark.django_db
API = "/api/legal/counter-notice/"
PAGE = "/legal/counter-notice/"


@pytest.fixture
def takedown() -> Takedown:
    [takedown] = notice_accept_naming(make_film(title="Lantern Maker"))
    return takedown


def _post(data: Any) -> Any:
    return APIClient().post(API, data, format="json")


def test_a_counter_notice_is_stored_recorded_and_forwarded_to_the_sender(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(counter_payload(takedown))
    run_queued_jobs()

    assert response.status_code == 201, response.content
    counter = CounterNotice.objects.get(reference=response.json()["reference"])
    assert counter.takedown == takedown
    [forwarded] = [m for m in mail.outbox if m.to == ["jo@claimant.example"]]
    body = str(forwarded.body)
    for element in ("Sam Maker", "3 Studio Lane, Portland", "503 555 0199", "mistake or"):
        assert element in body
    assert "Federal District Court" in body
    assert "service of process" in body
    assert counter.restore_after.strftime("%B") in body
    [confirmation] = [m for m in mail.outbox if m.to == ["sam@maker.example"]]
    assert counter.reference in confirmation.subject
    kinds = set(
        LegalEvent.objects.filter(notice_id=takedown.notice_id).values_list("kind", flat=True)
    )
    assert {LegalEventKind.COUNTER_NOTICE, LegalEventKind.RESTORATION_SCHEDULED} <= kinds


@pytest.mark.parametrize("element", list(COUNTER_NOTICE_ELEMENTS))
def test_each_missing_element_is_a_400_naming_it(takedown: Takedown, element: str) -> None:
    data = counter_payload(takedown)
    del data[element]

    response = _post(data)

    assert response.status_code == 400
    assert list(response.json()) == [element]
    assert COUNTER_NOTICE_ELEMENTS[element] in response.json()[element][0]
    assert not CounterNotice.objects.exists()


@pytest.mark.parametrize("element", list(COUNTER_NOTICE_ELEMENTS))
def test_each_missing_element_is_a_form_error_naming_it(takedown: Takedown, element: str) -> None:
    data = {k: ("on" if v is True else v) for k, v in counter_payload(takedown).items()}
    del data[element]

    response = Client().post(PAGE, data)

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {element}
    assert COUNTER_NOTICE_ELEMENTS[element] in response.content.decode()


def test_an_unknown_reference_is_a_404(takedown: Takedown) -> None:
    response = _post({**counter_payload(takedown), "takedown": "TD-000000000000"})

    assert response.status_code == 404
    assert "No takedown has this reference" in response.json()["detail"]


def test_a_restored_takedown_is_a_clear_400(takedown: Takedown) -> None:
    services.takedown_restore(takedown=takedown, by=make_user(staff=True), reason="Withdrawn.")

    response = _post(counter_payload(takedown))

    assert response.status_code == 400
    assert "restored already" in response.json()["detail"]


def test_a_second_counter_notice_is_a_clear_400(takedown: Takedown) -> None:
    counter_submit(takedown)

    response = _post(counter_payload(takedown))

    assert response.status_code == 400
    assert "received already" in response.json()["detail"]
    assert CounterNotice.objects.count() == 1


def test_the_page_prefills_the_reference_from_the_mail_link(takedown: Takedown) -> None:
    page = Client().get(f"{PAGE}?takedown={takedown.reference}").content.decode()

    assert f'value="{takedown.reference}"' in page
    assert "Federal District Court" in page


def test_the_page_submits_and_shows_the_restoration_day(takedown: Takedown) -> None:
    data = {k: ("on" if v is True else v) for k, v in counter_payload(takedown).items()}

    response = Client().post(PAGE, data)

    assert response.status_code == 200
    counter = CounterNotice.objects.get()
    assert counter.reference in response.content.decode()


def test_a_film_also_down_under_another_notice_is_not_promised_back(
    django_capture_on_commit_callbacks: Any,
) -> None:
    film = make_film(title="Twice Down")
    [first] = notice_accept_naming(film)
    [second] = notice_accept_naming(film)
    data = {k: ("on" if v is True else v) for k, v in counter_payload(first).items()}

    with django_capture_on_commit_callbacks(execute=True):
        page = Client().post(PAGE, data).content.decode()
    run_queued_jobs()

    assert "the film will be restored on" not in page
    assert f"takedown {first.reference} will be lifted on" in page
    assert f"another takedown stands ({second.reference})" in page
    [confirmation] = [m for m in mail.outbox if m.to == ["sam@maker.example"]]
    assert "the film will be restored on" not in confirmation.body
    assert f"another takedown stands\n({second.reference})" in confirmation.body


def test_the_transparency_page_answers_reads_only() -> None:
    assert Client().get("/legal/transparency/").status_code == 200
    assert Client().head("/legal/transparency/").status_code == 200
    for method in ("post", "put", "patch", "delete"):
        assert getattr(Client(), method)("/legal/transparency/").status_code == 405


def test_the_page_names_an_unknown_reference(takedown: Takedown) -> None:
    data = {k: ("on" if v is True else v) for k, v in counter_payload(takedown).items()}
    data["takedown"] = "TD-NOPE"

    response = Client().post(PAGE, data)

    assert response.status_code == 404
    assert "No takedown has this reference" in response.content.decode()


@pytest.mark.parametrize("body", [b"[]", b"{", b'{"takedown": ["x"]}', b"\xff"])
def test_garbage_bodies_never_get_a_500(body: bytes) -> None:
    response = Client().generic("POST", API, body, content_type="application/json")

    assert 400 <= response.status_code < 500
