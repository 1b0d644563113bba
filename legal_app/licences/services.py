"""Carry out due licence-window edges: publish at the start, unpublish at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from affea.errors import DomainError
from content_app.models import Film
from content_app.services import film_publish, film_unpublish
from legal_app.models import LegalEventKind, LicenceEdge, LicenceEdgeKind
from legal_app.record import event_record

logger = logging.getLogger(__name__)

ACTOR = "licence scheduler"


@dataclass(frozen=True)
class LicenceSyncResult:
    started: list[int]
    ended: list[int]


def _edge_done(kind: LicenceEdgeKind, field: str) -> Exists:
    return Exists(LicenceEdge.objects.filter(film=OuterRef("pk"), kind=kind, at=OuterRef(field)))


def films_licence_starting(*, now: datetime) -> QuerySet[Film]:
    """Films inside their window whose start the job has not carried out (none taken down)."""
    return Film.objects.filter(
        Q(licence_ends_at__isnull=True) | Q(licence_ends_at__gt=now),
        licence_starts_at__lte=now,
        taken_down_at__isnull=True,
    ).exclude(_edge_done(LicenceEdgeKind.START, "licence_starts_at"))


def films_licence_ending(*, now: datetime) -> QuerySet[Film]:
    """Films past the end of their window whose end the job has not carried out."""
    return Film.objects.filter(licence_ends_at__lte=now).exclude(
        _edge_done(LicenceEdgeKind.END, "licence_ends_at")
    )


def _edge_claim(film: Film, kind: LicenceEdgeKind, at: datetime) -> bool:
    try:
        with transaction.atomic():
            LicenceEdge.objects.create(film=film, kind=kind, at=at)
    except IntegrityError:  # another run carried it out first
        return False
    return True


@transaction.atomic
def licence_start(*, film_id: int, now: datetime) -> bool:
    """Publish a film whose window has started; False if there was nothing to do."""
    film = Film.objects.select_for_update().filter(pk=film_id).first()
    if film is None or film.licence_starts_at is None or film.licence_starts_at > now:
        return False
    if film.licence_ends_at is not None and film.licence_ends_at <= now:
        return False
    if film.taken_down_at is not None:  # never published by the licence job
        return False
    if not _edge_claim(film, LicenceEdgeKind.START, film.licence_starts_at):
        return False
    published = film_publish(film=film)
    event_record(
        kind=LegalEventKind.LICENCE_STARTED,
        summary=f"Licence window of “{film.title}” started: "
        + ("published" if published else "already published"),
        actor_label=ACTOR,
        film_id=film.pk,
        details=_window(film) | {"published": published},
    )
    return True


@transaction.atomic
def licence_end(*, film_id: int, now: datetime) -> bool:
    """Unpublish a film whose window has ended; False if there was nothing to do."""
    film = Film.objects.select_for_update().filter(pk=film_id).first()
    if film is None or film.licence_ends_at is None or film.licence_ends_at > now:
        return False
    if not _edge_claim(film, LicenceEdgeKind.END, film.licence_ends_at):
        return False
    unpublished = film_unpublish(film=film)
    event_record(
        kind=LegalEventKind.LICENCE_ENDED,
        summary=f"Licence window of “{film.title}” ended: "
        + ("unpublished" if unpublished else "was not published"),
        actor_label=ACTOR,
        film_id=film.pk,
        details=_window(film) | {"unpublished": unpublished},
    )
    return True


def _window(film: Film) -> dict[str, str | None]:
    starts, ends = film.licence_starts_at, film.licence_ends_at
    return {
        "licence_starts_at": starts.isoformat() if starts else None,
        "licence_ends_at": ends.isoformat() if ends else None,
    }


def licences_sync(*, now: datetime | None = None) -> LicenceSyncResult:
    """Carry out every due edge, each film in its own transaction; safe to run at any time."""
    now = now or timezone.now()
    started, ended = [], []
    for film_id in films_licence_ending(now=now).values_list("pk", flat=True):
        if licence_end(film_id=film_id, now=now):
            ended.append(film_id)
    for film_id in films_licence_starting(now=now).values_list("pk", flat=True):
        try:
            if licence_start(film_id=film_id, now=now):
                started.append(film_id)
        except DomainError as exc:  # taken down between the query and the lock
            logger.info("licence start of film %s skipped: %s", film_id, exc)
    return LicenceSyncResult(started=started, ended=ended)
