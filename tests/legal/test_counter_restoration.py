"""Restoration after a counter-notice: 10 to 14 business days, unless a court action is recorded.

Receipt is Wednesday 18 November 2026 at 15:00 in New York. The window runs over two
weekends and Thanksgiving (Thursday 26 November), so the 10th business day after it is
Thursday 3 December and the 14th is Wednesday 9 December: restoration comes at the end of
one of them, once that many whole business days have passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_rq
import pytest
from django.core import mail
from django.test import override_settings
from freezegun import freeze_time
from rest_framework.test import APIClient
from rq.scheduler import RQScheduler

from content_app.models import Film
from legal_app.dmca import business_days, tasks
from legal_app.dmca.counter import court_action_record
from legal_app.models import CounterNotice, LegalEvent, LegalEventKind, Takedown
from tests.content.factories import make_film, make_user
from tests.legal.dmca_support import counter_submit, notice_accept_naming, run_queued_jobs

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
RECEIVED = datetime(2026, 11, 18, 15, 0, tzinfo=NEW_YORK)
TENTH = datetime(2026, 12, 3, tzinfo=NEW_YORK)
THIRTEENTH = datetime(2026, 12, 8, tzinfo=NEW_YORK)
FOURTEENTH = datetime(2026, 12, 9, tzinfo=NEW_YORK)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def test_business_days_skip_weekends_and_us_federal_holidays() -> None:
    counted = [business_days.business_day_after(RECEIVED.date(), n) for n in range(1, 15)]

    assert date(2026, 11, 26) not in counted  # Thanksgiving
    assert date(2026, 11, 27) in counted  # the day after is not a federal holiday
    assert not any(day.weekday() >= 5 for day in counted)
    assert (counted[9], counted[13]) == (TENTH.date(), FOURTEENTH.date())


def test_the_window_runs_from_the_end_of_the_10th_to_the_end_of_the_14th_business_day() -> None:
    earliest, latest = business_days.restoration_window(RECEIVED)

    # Not on the 10th itself: then only nine whole business days would have passed.
    assert (earliest, latest) == (TENTH + DAY, FOURTEENTH + DAY)


@pytest.mark.parametrize(("day", "expected"), [(10, TENTH + DAY), (11, TENTH + 2 * DAY),
                                               (13, THIRTEENTH + DAY)])  # fmt: skip
def test_the_setting_picks_the_day_inside_the_window(day: int, expected: datetime) -> None:
    with override_settings(DMCA_RESTORATION_BUSINESS_DAY=day):
        assert business_days.restoration_time(RECEIVED) == expected


@pytest.fixture
def takedown() -> Takedown:
    [takedown] = notice_accept_naming(
        make_film(title="Countered", rights_holder_email="m@x.example")
    )
    return takedown


def _countered(takedown: Takedown, capture: Any) -> CounterNotice:
    with freeze_time(RECEIVED), capture(execute=True):
        counter = counter_submit(takedown)
    run_queued_jobs()  # the mails
    mail.outbox.clear()
    return counter


def _scheduler_runs_at(moment: datetime) -> None:
    """What `rqworker --with-scheduler` does at `moment`: move due jobs, then run them."""
    with freeze_time(moment):
        queue = django_rq.get_queue("default")
        scheduler = RQScheduler([queue], connection=queue.connection)
        scheduler.acquire_locks()
        scheduler.enqueue_scheduled_jobs()
        scheduler.release_locks()
        run_queued_jobs()


def _visible(takedown: Takedown) -> bool:
    viewer = APIClient()
    viewer.force_authenticate(make_user())
    return viewer.get(f"/api/content/{takedown.film_id}/").status_code == 200


def _restorations(takedown: Takedown) -> int:
    return LegalEvent.objects.filter(kind=LegalEventKind.RESTORED, film_id=takedown.film_id).count()


@pytest.fixture(params=[10, 13], ids=["day 10", "day 13"])
def restoration_day(request: pytest.FixtureRequest) -> Iterator[datetime]:
    with override_settings(DMCA_RESTORATION_BUSINESS_DAY=request.param):
        yield (TENTH if request.param == 10 else THIRTEENTH) + DAY


def test_restoration_is_scheduled_in_rq_for_the_chosen_day(
    takedown: Takedown, restoration_day: datetime, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)

    registry = django_rq.get_queue("default").scheduled_job_registry
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == restoration_day
    assert counter.restore_after == restoration_day


def test_the_film_stays_down_until_the_restoration_moment_then_comes_back(
    takedown: Takedown, restoration_day: datetime, django_capture_on_commit_callbacks: Any
) -> None:
    _countered(takedown, django_capture_on_commit_callbacks)

    _scheduler_runs_at(restoration_day - SECOND)
    assert not _visible(takedown)

    with django_capture_on_commit_callbacks(execute=True):
        _scheduler_runs_at(restoration_day)
    run_queued_jobs()  # the mail the restoration enqueued
    assert _visible(takedown)
    takedown.refresh_from_db()
    assert takedown.restored_at == restoration_day
    assert takedown.restored_by is None
    assert "§512(g)(2)(C)" in takedown.restoration_reason
    [sent] = mail.outbox
    assert sent.to == ["m@x.example"]
    assert "is back on Affea" in sent.subject


def test_a_job_that_wakes_early_restores_nothing_and_waits_for_its_day(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)
    registry = django_rq.get_queue("default").scheduled_job_registry
    registry.remove(registry.get_job_ids()[0])

    with freeze_time(counter.restore_after - SECOND):
        assert tasks.restore_countered(counter.pk) is False

    assert not _visible(takedown)
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == counter.restore_after


def test_a_recorded_court_action_blocks_the_restoration(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)
    staff = make_user(staff=True)
    with freeze_time(counter.restore_after - timedelta(days=2)):
        court_action_record(counter=counter, by=staff, note="N.D. Cal. 5:26-cv-01234")

    _scheduler_runs_at(counter.restore_after + timedelta(days=1))

    assert not _visible(takedown)
    assert _restorations(takedown) == 0
    assert LegalEvent.objects.get(kind=LegalEventKind.COURT_ACTION).actor == staff


def test_the_film_is_restored_once_when_the_job_runs_twice(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)

    with freeze_time(counter.restore_after + SECOND):
        assert tasks.restore_countered(counter.pk) is True
        assert tasks.restore_countered(counter.pk) is False
    _scheduler_runs_at(counter.restore_after + timedelta(minutes=1))

    assert _visible(takedown)
    assert _restorations(takedown) == 1


def test_a_worker_back_from_an_outage_restores_late_and_once(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)
    late = counter.restore_after + timedelta(days=9)

    _scheduler_runs_at(late)
    _scheduler_runs_at(late + timedelta(hours=1))

    assert _visible(takedown)
    assert _restorations(takedown) == 1
    with freeze_time(late):
        assert tasks.restore_due() == 0


def test_the_sweep_restores_what_redis_forgot(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)
    django_rq.get_queue("default").connection.flushdb()

    with freeze_time(counter.restore_after - SECOND):
        assert tasks.restore_due() == 0
    with freeze_time(counter.restore_after + timedelta(days=3)):
        assert tasks.restore_due() == 1

    assert _visible(takedown)


def _lifted_but_not_back(takedown: Takedown, counter: CounterNotice, capture: Any) -> Any:
    """Restore at the counter-notice's time; the film stays hidden: return the one mail sent."""
    with capture(execute=True):
        _scheduler_runs_at(counter.restore_after)
    run_queued_jobs()
    assert not _visible(takedown)
    [sent] = mail.outbox
    assert sent.subject == f"The takedown of “Countered” is lifted ({takedown.reference})"
    assert "shown on Affea again" not in sent.body
    return sent


def test_a_film_not_shown_for_another_reason_is_not_said_to_be_back(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    counter = _countered(takedown, django_capture_on_commit_callbacks)
    Film.objects.filter(pk=takedown.film_id).update(is_published=False)  # e.g. its licence ended

    sent = _lifted_but_not_back(takedown, counter, django_capture_on_commit_callbacks)

    assert "is not shown on Affea at the moment" in sent.body


def test_a_takedown_lifted_while_another_stands_tells_the_rights_holder_which(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    [other] = notice_accept_naming(takedown.film)
    counter = _countered(takedown, django_capture_on_commit_callbacks)

    sent = _lifted_but_not_back(takedown, counter, django_capture_on_commit_callbacks)

    assert f"The film stays down while another takedown stands ({other.reference})" in sent.body


def test_the_restoration_names_the_day_of_receipt_where_business_days_are_counted(
    takedown: Takedown, django_capture_on_commit_callbacks: Any
) -> None:
    # 21:30 in New York is already the next day in UTC.
    late = datetime(2026, 11, 18, 21, 30, tzinfo=NEW_YORK)
    with freeze_time(late), django_capture_on_commit_callbacks(execute=True):
        counter = counter_submit(takedown)
    run_queued_jobs()  # the mails
    forwarded = [m for m in mail.outbox if "Received:" in m.body]
    assert forwarded
    assert "Received: 2026-11-18 21:30" in forwarded[0].body

    _scheduler_runs_at(counter.restore_after)

    takedown.refresh_from_db()
    assert "received 2026-11-18;" in takedown.restoration_reason
