"""Counter-notices (§512(g)): receipt, the restoration schedule, court actions, restoration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from affea.errors import DomainError, NotFound
from content_app.models import Film
from legal_app.dmca import business_days, enqueue
from legal_app.dmca.services import takedown_restore_locked
from legal_app.models import CounterNotice, LegalEventKind, Takedown
from legal_app.record import event_record
from users_app.models import User


class TakedownClosed(DomainError):
    """The takedown was restored already, or a counter-notice was filed against it before."""


@dataclass(frozen=True)
class CounterSubmission:
    takedown_reference: str
    signature: str
    material: str
    location_before_removal: str
    mistake_statement: bool
    name: str
    address: str
    phone: str
    email: str
    jurisdiction_consent: bool
    service_acceptance: bool


@transaction.atomic
def counter_notice_submit(*, submission: CounterSubmission) -> CounterNotice:
    """Store a counter-notice, schedule the restoration and forward a copy to the sender."""
    takedown = (
        Takedown.objects.select_for_update()
        .filter(reference=submission.takedown_reference.strip().upper())
        .first()
    )
    if takedown is None:
        raise NotFound("No takedown has this reference; check the reference in our mail.")
    if takedown.restored_at is not None:
        raise TakedownClosed("This film has been restored already; no counter-notice is needed.")
    if CounterNotice.objects.filter(takedown=takedown).exists():
        raise TakedownClosed("A counter-notice for this takedown has been received already.")
    received_at = timezone.now()
    counter = CounterNotice.objects.create(
        takedown=takedown,
        signature=submission.signature,
        material=submission.material,
        location_before_removal=submission.location_before_removal,
        mistake_statement=submission.mistake_statement,
        name=submission.name,
        address=submission.address,
        phone=submission.phone,
        email=submission.email,
        jurisdiction_consent=submission.jurisdiction_consent,
        service_acceptance=submission.service_acceptance,
        restore_after=business_days.restoration_time(received_at),
    )
    event_record(
        kind=LegalEventKind.COUNTER_NOTICE,
        summary=f"Counter-notice {counter.reference} received for {takedown.reference}",
        actor_label=f"{counter.name} <{counter.email}>" if counter.email else counter.name,
        details={"counter_notice": counter.reference, "takedown": takedown.reference},
        film_id=takedown.film_id,
        notice_id=takedown.notice_id,
    )
    earliest, latest = business_days.restoration_window(received_at)
    event_record(
        kind=LegalEventKind.RESTORATION_SCHEDULED,
        summary=f"Restoration of {takedown.reference} scheduled: {counter.restore_after:%Y-%m-%d}",
        actor_label="system",
        details={
            "counter_notice": counter.reference,
            "restore_after": counter.restore_after.isoformat(),
            "window": [earliest.isoformat(), latest.isoformat()],
        },
        film_id=takedown.film_id,
        notice_id=takedown.notice_id,
    )
    enqueue.mail_later("counter_notice_forward", counter.pk)
    if counter.email:
        enqueue.mail_later("counter_notice_confirmation", counter.pk)
    enqueue.restoration_schedule(counter.pk, counter.restore_after)
    return counter


@transaction.atomic
def court_action_record(*, counter: CounterNotice, by: User, note: str) -> CounterNotice:
    """Record that the notice's sender filed a court action: the restoration will not happen."""
    locked = CounterNotice.objects.select_for_update().select_related("takedown").get(pk=counter.pk)
    if locked.takedown.restored_at is not None:
        raise DomainError("The film was restored already.")
    if locked.court_action_at is not None:
        raise DomainError("A court action is recorded already.")
    locked.court_action_at, locked.court_action_by = timezone.now(), by
    locked.court_action_note = note.strip()
    locked.save(update_fields=["court_action_at", "court_action_by", "court_action_note"])
    event_record(
        kind=LegalEventKind.COURT_ACTION,
        summary=f"Court action recorded against {locked.reference}; restoration cancelled",
        actor=by,
        film_id=locked.takedown.film_id,
        notice_id=locked.takedown.notice_id,
        details={"counter_notice": locked.reference, "note": locked.court_action_note},
    )
    return locked


@transaction.atomic
def counter_notice_restore_if_due(*, counter_id: int, now: datetime | None = None) -> bool:
    """Restore the countered film if its day has come and no court action is recorded.

    Safe to run any number of times, early or late: the locked takedown is restored once.
    """
    counter = (
        CounterNotice.objects.select_for_update(of=("self",))
        .select_related("takedown")
        .filter(pk=counter_id)
        .first()
    )
    if counter is None or counter.court_action_at is not None:
        return False
    if (now or timezone.now()) < counter.restore_after:
        return False
    takedown = Takedown.objects.select_for_update().get(pk=counter.takedown_id)
    Film.objects.select_for_update().filter(pk=takedown.film_id).first()
    reason = (
        f"Counter-notice {counter.reference} received "
        f"{business_days.received_day(counter.received_at):%Y-%m-%d}; no court "
        "action was reported before the restoration day (17 U.S.C. §512(g)(2)(C))."
    )
    return takedown_restore_locked(takedown=takedown, by=None, reason=reason)
