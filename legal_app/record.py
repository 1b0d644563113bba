"""Writing to and reading the legal record (legal_app.models.record.LegalEvent)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from legal_app.models import LegalEvent, LegalEventKind
from users_app.models import User


def event_record(
    *,
    kind: LegalEventKind,
    summary: str,
    actor: User | None = None,
    actor_label: str = "",
    film_id: int | None = None,
    notice_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> LegalEvent:
    """Append one event; `actor_label` names a non-user actor (a sender, "scheduler")."""
    label = actor_label or (actor.email if actor is not None else "system")
    return LegalEvent.objects.create(
        kind=kind,
        summary=summary[:500],
        actor=actor,
        actor_label=label[:320],
        film_id=film_id,
        notice_id=notice_id,
        details=details or {},
    )


def events_for(*, film_id: int | None = None, notice_id: int | None = None) -> QuerySet[LegalEvent]:
    """The events about a film or a notice, oldest first."""
    match = Q(pk__in=[])
    if film_id is not None:
        match |= Q(film_id=film_id)
    if notice_id is not None:
        match |= Q(notice_id=notice_id)
    return LegalEvent.objects.filter(match).order_by("at", "pk")
