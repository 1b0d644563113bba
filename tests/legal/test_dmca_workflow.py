"""Staff workflow: states, race-safe transitions, takedowns and restorations, their mails."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from affea.errors import DomainError
from content_app.models import Film
from legal_app.dmca import services
from legal_app.dmca.services import TransitionRefused
from legal_app.models import LegalEvent, LegalEventKind, Notice, NoticeState, Takedown
from tests.content.factories import make_film, make_user
from tests.legal.dmca_support import notice_accept_naming, notice_submit_naming, run_queued_jobs
from users_app.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return make_user(staff=True)


def _kinds(notice: Notice) -> list[str]:
    return list(
        LegalEvent.objects.filter(notice_id=notice.pk).order_by("pk").values_list("kind", flat=True)
    )


def test_a_decision_needs_a_review_first(staff: User) -> None:
    notice = notice_submit_naming(make_film())

    with pytest.raises(TransitionRefused, match="received; it cannot become accepted"):
        services.notice_accept(notice=notice, by=staff)
    assert Notice.objects.get().state == NoticeState.RECEIVED


def test_a_final_state_cannot_change(staff: User) -> None:
    notice = notice_submit_naming(make_film())
    services.notice_review_start(notice=notice, by=staff)
    services.notice_reject(notice=notice, by=staff, reason="Fair use: a 3 s quotation.")

    with pytest.raises(TransitionRefused):
        services.notice_accept(notice=notice, by=staff)
    assert not Takedown.objects.exists()


def test_rejection_needs_a_reason_and_mails_it(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    notice = notice_submit_naming(make_film())
    services.notice_review_start(notice=notice, by=staff)
    with pytest.raises(DomainError, match="reason"):
        services.notice_reject(notice=notice, by=staff, reason="  ")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.notice_reject(notice=notice, by=staff, reason="The work is in the public domain.")
    run_queued_jobs()

    notice.refresh_from_db()
    assert (notice.state, notice.decided_by) == (NoticeState.REJECTED, staff)
    [sent] = mail.outbox
    assert sent.to == ["jo@claimant.example"]
    assert "The work is in the public domain." in str(sent.body)


def test_incomplete_mails_the_sender_what_is_missing(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    notice = notice_submit_naming(make_film())
    services.notice_review_start(notice=notice, by=staff)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.notice_mark_incomplete(
            notice=notice, by=staff, missing_items="Identify the copyrighted work precisely."
        )
    run_queued_jobs()

    [sent] = mail.outbox
    assert "incomplete" in sent.subject
    assert "Identify the copyrighted work precisely." in str(sent.body)
    assert "/legal/dmca/" in str(sent.body)
    assert _kinds(notice) == [
        LegalEventKind.NOTICE_RECEIVED,
        LegalEventKind.NOTICE_STATE,
        LegalEventKind.NOTICE_STATE,
        LegalEventKind.MAIL_SENT,
    ]


def test_accepting_takes_every_named_film_down_and_mails_its_rights_holder(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    first = make_film(title="Lantern One", rights_holder_email="maker@films.example")
    second = make_film(title="Lantern Two")  # no contact: nobody to mail
    with django_capture_on_commit_callbacks(execute=True):
        takedowns = notice_accept_naming(first, second, staff=staff)
    mail.outbox.clear()
    run_queued_jobs()

    for film in (first, second):
        film.refresh_from_db()
        assert film.taken_down_at is not None
    assert {t.film for t in takedowns} == {first, second}
    assert all(t.taken_down_by == staff and t.is_active for t in takedowns)
    takedown = next(t for t in takedowns if t.film == first)
    [sent] = [m for m in mail.outbox if m.to == ["maker@films.example"]]
    body = str(sent.body)
    assert "Lantern One" in sent.subject
    assert "Harbour Lights" in body  # why: the work the sender claims
    assert f"/legal/counter-notice/?takedown={takedown.reference}" in body
    assert "penalty of perjury" in body
    events = LegalEvent.objects.filter(kind=LegalEventKind.TAKEDOWN, film_id=first.pk)
    assert events.get().actor == staff


def test_a_film_stays_down_until_its_last_takedown_is_restored(staff: User) -> None:
    film = make_film()
    [earlier] = notice_accept_naming(film, staff=staff)
    [later] = notice_accept_naming(film, staff=staff)
    viewer = APIClient()
    viewer.force_authenticate(make_user())

    services.takedown_restore(takedown=earlier, by=staff, reason="Notice withdrawn.")

    film.refresh_from_db()
    assert film.taken_down_at is not None
    assert viewer.get(f"/api/content/{film.pk}/").status_code == 404

    services.takedown_restore(takedown=later, by=staff, reason="Licence confirmed.")

    film.refresh_from_db()
    assert film.taken_down_at is None
    assert viewer.get(f"/api/content/{film.pk}/").status_code == 200
    assert Takedown.objects.filter(film=film).count() == 2
    assert not services.takedown_restore(takedown=later, by=staff, reason="Again.")
    assert LegalEvent.objects.filter(kind=LegalEventKind.RESTORED, film_id=film.pk).count() == 2


def test_the_rights_holder_is_told_back_on_affea_only_when_the_film_is(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    film = make_film(title="Twice Noticed", rights_holder_email="maker@films.example")
    [earlier] = notice_accept_naming(film, staff=staff)
    [later] = notice_accept_naming(film, staff=staff)
    run_queued_jobs()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.takedown_restore(takedown=earlier, by=staff, reason="Notice withdrawn.")
    run_queued_jobs()
    assert [m.subject for m in mail.outbox if "back on Affea" in m.subject] == []

    with django_capture_on_commit_callbacks(execute=True):
        services.takedown_restore(takedown=later, by=staff, reason="Licence confirmed.")
    run_queued_jobs()
    assert [m.to for m in mail.outbox if "back on Affea" in m.subject] == [["maker@films.example"]]


@pytest.mark.django_db(transaction=True)
def test_two_staff_accepting_at_once_take_the_film_down_once() -> None:
    film = make_film()
    staff = [make_user(staff=True), make_user(staff=True)]
    notice = notice_submit_naming(film)
    services.notice_review_start(notice=notice, by=staff[0])
    results: list[str] = []
    barrier = threading.Barrier(2)

    def accept(by: User) -> None:
        barrier.wait()
        try:
            services.notice_accept(notice=notice, by=by)
            results.append("accepted")
        except TransitionRefused:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(user,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(results) == ["accepted", "refused"]
    assert Takedown.objects.filter(film=film).count() == 1
    assert LegalEvent.objects.filter(kind=LegalEventKind.TAKEDOWN).count() == 1


def test_playback_is_refused_on_the_first_request_after_accept(staff: User) -> None:
    film = make_film(upload=True)
    viewer = APIClient()
    viewer.force_authenticate(make_user())
    assert viewer.get(f"/api/content/video-url/{film.pk}/").status_code == 200

    started = time.perf_counter()
    notice_accept_naming(film, staff=staff)
    refused = viewer.get(f"/api/content/video-url/{film.pk}/")
    elapsed = time.perf_counter() - started

    assert refused.status_code == 404
    assert elapsed < 1.0
    assert Film.objects.get(pk=film.pk).is_taken_down
