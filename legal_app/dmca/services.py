"""Every write about DMCA notices and takedowns; each transition locks its row and is recorded."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from affea.errors import DomainError, NotFound
from content_app.catalogue_cache import catalogue_changed
from content_app.models import Film
from legal_app.dmca import enqueue
from legal_app.models import LegalEventKind, Notice, NoticeState, Takedown
from legal_app.record import event_record
from users_app.models import User

# received -> under review -> accepted / rejected / incomplete; the last three are final.
ALLOWED: dict[str, set[str]] = {
    NoticeState.RECEIVED: {NoticeState.UNDER_REVIEW},
    NoticeState.UNDER_REVIEW: {NoticeState.ACCEPTED, NoticeState.REJECTED, NoticeState.INCOMPLETE},
}


class TransitionRefused(DomainError):
    status = 409


@dataclass(frozen=True)
class NoticeSubmission:
    signature: str
    copyrighted_work: str
    infringing_material: str
    films: list[Film]
    address: str
    phone: str
    email: str
    good_faith: bool
    accurate_under_penalty: bool


def _sender(notice: Notice) -> str:
    return f"{notice.signature} <{notice.email}>"


@transaction.atomic
def notice_submit(*, submission: NoticeSubmission) -> Notice:
    """Store a complete notice, record it and mail the sender and staff (after commit)."""
    notice = Notice.objects.create(
        signature=submission.signature,
        copyrighted_work=submission.copyrighted_work,
        infringing_material=submission.infringing_material,
        address=submission.address,
        phone=submission.phone,
        email=submission.email,
        good_faith=submission.good_faith,
        accurate_under_penalty=submission.accurate_under_penalty,
    )
    notice.films.set(submission.films)
    event_record(
        kind=LegalEventKind.NOTICE_RECEIVED,
        summary=f"Notice {notice.reference} received naming {len(submission.films)} film(s)",
        actor_label=_sender(notice),
        notice_id=notice.pk,
        details={"films": [film.pk for film in submission.films]},
    )
    enqueue.mail_later("notice_confirmation", notice.pk)
    enqueue.mail_later("notice_staff", notice.pk)
    return notice


def _transition(*, notice: Notice, to: str, by: User, **fields: object) -> Notice:
    """Move a locked notice to `to` if its current state allows it; record the change."""
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if to not in ALLOWED.get(locked.state, set()):
        raise TransitionRefused(
            f"Notice {locked.reference} is {locked.get_state_display().lower()}; "
            f"it cannot become {NoticeState(to).label.lower()}."
        )
    before = locked.state
    locked.state = to
    update = ["state", *fields]
    for name, value in fields.items():
        setattr(locked, name, value)
    if to != NoticeState.UNDER_REVIEW:
        locked.decided_at, locked.decided_by = timezone.now(), by
        update += ["decided_at", "decided_by"]
    locked.save(update_fields=update)
    event_record(
        kind=LegalEventKind.NOTICE_STATE,
        summary=f"Notice {locked.reference}: {before} -> {to}",
        actor=by,
        notice_id=locked.pk,
        details={"from": before, "to": to, **{k: str(v) for k, v in fields.items()}},
    )
    return locked


@transaction.atomic
def notice_review_start(*, notice: Notice, by: User) -> Notice:
    return _transition(notice=notice, to=NoticeState.UNDER_REVIEW, by=by)


@transaction.atomic
def notice_reject(*, notice: Notice, by: User, reason: str) -> Notice:
    if not reason.strip():
        raise DomainError("A rejection needs a reason.")
    notice = _transition(
        notice=notice, to=NoticeState.REJECTED, by=by, rejection_reason=reason.strip()
    )
    enqueue.mail_later("notice_rejected", notice.pk)
    return notice


@transaction.atomic
def notice_mark_incomplete(*, notice: Notice, by: User, missing_items: str) -> Notice:
    if not missing_items.strip():
        raise DomainError("Say what is missing: the sender is mailed it.")
    notice = _transition(
        notice=notice, to=NoticeState.INCOMPLETE, by=by, missing_items=missing_items.strip()
    )
    enqueue.mail_later("notice_incomplete", notice.pk)
    return notice


@transaction.atomic
def notice_accept(*, notice: Notice, by: User) -> list[Takedown]:
    """Accept the notice and take every film it names down at once."""
    notice = _transition(notice=notice, to=NoticeState.ACCEPTED, by=by)
    now = notice.decided_at or timezone.now()
    takedowns = []
    for film in Film.objects.select_for_update().filter(dmca_notices=notice).order_by("pk"):
        takedown = Takedown.objects.create(
            film=film, notice=notice, taken_down_at=now, taken_down_by=by
        )
        # The first active takedown sets the film's mark; a later one keeps the earlier time.
        Film.objects.filter(pk=film.pk, taken_down_at__isnull=True).update(taken_down_at=now)
        event_record(
            kind=LegalEventKind.TAKEDOWN,
            summary=f"Film {film.pk} ({film.title}) taken down: {takedown.reference}",
            actor=by,
            film_id=film.pk,
            notice_id=notice.pk,
            details={"takedown": takedown.reference},
        )
        enqueue.mail_later("takedown_rights_holder", takedown.pk)
        takedowns.append(takedown)
    catalogue_changed()
    return takedowns


def takedown_restore_locked(*, takedown: Takedown, by: User | None, reason: str) -> bool:
    """Restore a takedown already locked by the caller; False when it was restored before."""
    if takedown.restored_at is not None:
        return False
    takedown.restored_at, takedown.restored_by = timezone.now(), by
    takedown.restoration_reason = reason
    takedown.save(update_fields=["restored_at", "restored_by", "restoration_reason"])
    still_down = Takedown.objects.filter(
        film_id=takedown.film_id, restored_at__isnull=True
    ).exists()
    if not still_down:
        Film.objects.filter(pk=takedown.film_id).update(taken_down_at=None)
    catalogue_changed()
    event_record(
        kind=LegalEventKind.RESTORED,
        summary=f"Film {takedown.film_id} restored: {takedown.reference}",
        actor=by,
        actor_label="" if by else "scheduler",
        film_id=takedown.film_id,
        notice_id=takedown.notice_id,
        details={"takedown": takedown.reference, "reason": reason, "still_down": still_down},
    )
    # The mail says whether the film is back or what still keeps it down.
    enqueue.mail_later("restored_rights_holder", takedown.pk)
    return True


@transaction.atomic
def takedown_restore(*, takedown: Takedown, by: User, reason: str) -> bool:
    """Staff restore a film (e.g. a notice withdrawn); the takedown row keeps its history."""
    if not reason.strip():
        raise DomainError("A restoration needs a reason.")
    locked = Takedown.objects.select_for_update().filter(pk=takedown.pk).first()
    if locked is None:
        raise NotFound("No such takedown.")
    Film.objects.select_for_update().filter(pk=locked.film_id).first()
    return takedown_restore_locked(takedown=locked, by=by, reason=reason.strip())
