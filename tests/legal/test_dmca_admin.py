"""DMCA admin: decisions through services, taken-down films marked, exports, repeat infringers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import reverse

from legal_app.dmca import services
from legal_app.dmca.selectors import repeat_infringers
from legal_app.models import CounterNotice, LegalEventKind, Notice, NoticeState, Takedown
from tests.content.factories import make_film, make_user
from tests.legal.dmca_support import counter_submit, notice_accept_naming, notice_submit_naming
from users_app.models import User

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser(email="boss@affea.example", password="pw")


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def _change(client: Client, notice: Notice, **data: str) -> _MonkeyPatchedWSGIResponse:
    url = reverse("admin:legal_app_notice_change", args=[notice.pk])
    inline = {"takedowns-TOTAL_FORMS": "0", "takedowns-INITIAL_FORMS": "0"}
    return client.post(url, {"decision_text": "", **inline, **data, "_save": "Save"})


def test_staff_review_then_accept_in_the_change_form(staff_client: Client, staff: User) -> None:
    film = make_film()
    notice = notice_submit_naming(film)

    _change(staff_client, notice, decision=NoticeState.UNDER_REVIEW)
    _change(staff_client, notice, decision=NoticeState.ACCEPTED)

    notice.refresh_from_db()
    assert (notice.state, notice.decided_by) == (NoticeState.ACCEPTED, staff)
    assert Takedown.objects.get(film=film).taken_down_by == staff


def test_the_form_refuses_a_rejection_without_reason(staff_client: Client, staff: User) -> None:
    notice = notice_submit_naming(make_film())
    _change(staff_client, notice, decision=NoticeState.UNDER_REVIEW)

    response = _change(staff_client, notice, decision=NoticeState.REJECTED)

    assert response.status_code == 200  # the form again, with the error
    assert "Give the reason" in response.content.decode()
    assert Notice.objects.get().state == NoticeState.UNDER_REVIEW


def test_the_accept_action_takes_the_films_down(staff_client: Client) -> None:
    film = make_film()
    notice = notice_submit_naming(film)
    url = reverse("admin:legal_app_notice_changelist")
    staff_client.post(url, {"action": "start_review", "_selected_action": [notice.pk]})

    staff_client.post(url, {"action": "accept", "_selected_action": [notice.pk]})

    film.refresh_from_db()
    assert film.is_taken_down


@pytest.mark.parametrize("action", ["start_review", "accept"])
def test_view_only_staff_cannot_run_the_actions_that_decide(action: str) -> None:
    film = make_film()
    notice = notice_submit_naming(film)
    if action == "accept":
        services.notice_review_start(notice=notice, by=make_user(staff=True))
    viewer = make_user(staff=True, email="intern@affea.example")
    viewer.user_permissions.add(Permission.objects.get(codename="view_notice"))
    client = Client()
    client.force_login(viewer)
    url = reverse("admin:legal_app_notice_changelist")

    client.post(url, {"action": action, "_selected_action": [notice.pk]})

    film.refresh_from_db()
    notice.refresh_from_db()
    assert not film.is_taken_down
    assert notice.decided_by is None
    assert f'value="{action}"' not in client.get(url).content.decode()  # not offered either


def test_staff_see_a_taken_down_film_marked_with_its_notice(staff_client: Client) -> None:
    film = make_film(title="Lantern Down")
    make_film(title="Lantern Up")
    [takedown] = notice_accept_naming(film)
    url = reverse("admin:content_app_film_changelist")

    listed = staff_client.get(url, {"taken_down": "yes"}).content.decode()
    change = staff_client.get(reverse("admin:content_app_film_change", args=[film.pk]))

    assert "Lantern Down" in listed
    assert "Lantern Up" not in listed
    assert "taken down" in listed
    assert takedown.notice.reference in listed
    assert takedown.reference in change.content.decode()


def test_the_film_changelist_query_count_does_not_grow_with_takedowns(
    staff_client: Client, django_assert_max_num_queries: object
) -> None:
    url = reverse("admin:content_app_film_changelist")
    notice_accept_naming(make_film())
    with django_assert_max_num_queries(20) as few:  # type: ignore[operator]
        staff_client.get(url)
    for _ in range(5):
        notice_accept_naming(make_film())

    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        assert staff_client.get(url).status_code == 200


def test_staff_export_a_notice_history_as_json(staff_client: Client) -> None:
    [takedown] = notice_accept_naming(make_film())
    counter_submit(takedown)
    url = reverse("admin:legal_app_notice_changelist")

    response = staff_client.post(
        url, {"action": "export_history", "_selected_action": [takedown.notice_id]}
    )

    assert response["Content-Disposition"].startswith("attachment;")
    history = json.loads(response.content)[takedown.notice.reference]
    assert [event["kind"] for event in history] == [
        LegalEventKind.NOTICE_RECEIVED,
        LegalEventKind.NOTICE_STATE,
        LegalEventKind.NOTICE_STATE,
        LegalEventKind.TAKEDOWN,
        LegalEventKind.COUNTER_NOTICE,
        LegalEventKind.RESTORATION_SCHEDULED,
    ]


def test_staff_record_a_court_action_on_the_counter_notice(staff_client: Client) -> None:
    [takedown] = notice_accept_naming(make_film())
    counter = counter_submit(takedown)
    url = reverse("admin:legal_app_counternotice_change", args=[counter.pk])

    staff_client.post(url, {"court_action": "S.D.N.Y. 1:26-cv-0042", "_save": "Save"})

    assert CounterNotice.objects.get().court_action_note == "S.D.N.Y. 1:26-cv-0042"


def test_staff_restore_a_takedown_with_a_reason(staff_client: Client) -> None:
    [takedown] = notice_accept_naming(make_film())
    url = reverse("admin:legal_app_takedown_change", args=[takedown.pk])

    staff_client.post(url, {"restore_reason": "The sender withdrew the notice.", "_save": "Save"})

    takedown.refresh_from_db()
    assert takedown.restoration_reason == "The sender withdrew the notice."
    assert not takedown.film.is_taken_down


@override_settings(DMCA_REPEAT_INFRINGER_NOTICES=2)
def test_rights_holders_with_n_accepted_notices_are_flagged(staff_client: Client) -> None:
    repeat = [make_film(rights_holder_email="repeat@films.example") for _ in range(2)]
    notice_accept_naming(repeat[0])
    notice_accept_naming(repeat[1])
    notice_accept_naming(make_film(rights_holder_email="once@films.example"))
    notice_submit_naming(make_film(rights_holder_email="pending@films.example"))
    notice_submit_naming(make_film(rights_holder_email="pending@films.example"))

    page = staff_client.get(reverse("admin:legal_app_notice_repeat_infringers")).content.decode()

    assert "repeat@films.example" in page
    assert "once@films.example" not in page
    assert "pending@films.example" not in page


@override_settings(DMCA_REPEAT_INFRINGER_NOTICES=2)
def test_a_repeat_infringer_is_listed_with_the_films_that_drew_the_strikes_only() -> None:
    struck = [make_film(title=t, rights_holder_email="r@films.example") for t in ("B", "A")]
    for film in struck:
        notice_accept_naming(film)
    make_film(title="Clean", rights_holder_email="R@films.example")

    [row] = repeat_infringers()

    assert (row.email, row.films) == ("r@films.example", ["A", "B"])


@override_settings(DMCA_REPEAT_INFRINGER_NOTICES=2)
def test_a_notice_naming_only_films_already_down_draws_no_second_strike() -> None:
    film = make_film(title="Twice", rights_holder_email="maker@films.example")
    notice_accept_naming(film)
    notice_accept_naming(film)  # the same complaint, sent again (or by a second agent)

    assert repeat_infringers() == []

    notice_accept_naming(film, make_film(title="New", rights_holder_email="maker@films.example"))

    [row] = repeat_infringers()
    assert (row.accepted_notices, row.films) == (2, ["New", "Twice"])


@override_settings(DMCA_REPEAT_INFRINGER_NOTICES=2)
def test_restored_takedowns_are_no_strikes_and_contacts_match_in_any_case(
    staff_client: Client, staff: User
) -> None:
    mistaken = [make_film(rights_holder_email="maker@films.example") for _ in range(2)]
    for film in mistaken:
        [takedown] = notice_accept_naming(film)
        services.takedown_restore(takedown=takedown, by=staff, reason="The sender was mistaken.")
    notice_accept_naming(make_film(rights_holder_email="Repeat@Films.example"))
    notice_accept_naming(make_film(rights_holder_email="repeat@films.example"))

    page = staff_client.get(reverse("admin:legal_app_notice_repeat_infringers")).content.decode()

    assert "maker@films.example" not in page
    assert "repeat@films.example" in page


def test_the_repeat_infringer_list_needs_the_view_permission_on_notices() -> None:
    notice_accept_naming(make_film(rights_holder_email="maker@private.example"))
    client = Client()
    client.force_login(make_user(staff=True))  # staff, with no permission at all

    response = client.get(reverse("admin:legal_app_notice_repeat_infringers"))

    assert response.status_code == 403
    assert "maker@private.example" not in response.content.decode()


def test_the_repeat_infringer_view_is_for_staff_only() -> None:
    client = Client()
    client.force_login(make_user())

    response = client.get(reverse("admin:legal_app_notice_repeat_infringers"))

    assert response.status_code == 302
