"""The legal record: one append-only log of every legal event, who did it and when."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models


class LegalEventKind(models.TextChoices):
    NOTICE_RECEIVED = "notice_received", "DMCA notice received"
    NOTICE_STATE = "notice_state", "DMCA notice state changed"
    TAKEDOWN = "takedown", "Film taken down"
    MAIL_SENT = "mail_sent", "Mail sent"
    COUNTER_NOTICE = "counter_notice", "Counter-notice received"
    RESTORATION_SCHEDULED = "restoration_scheduled", "Restoration scheduled"
    RESTORED = "restored", "Film restored"
    COURT_ACTION = "court_action", "Court action recorded"
    LICENCE_STARTED = "licence_started", "Licence window started"
    LICENCE_ENDED = "licence_ended", "Licence window ended"
    TERMS_PUBLISHED = "terms_published", "Terms or privacy policy published"
    TERMS_ACCEPTED = "terms_accepted", "Terms accepted"


class AppendOnly(Exception):
    """Raised on an attempt to change or delete a row of the legal record."""


class LegalEventQuerySet(models.QuerySet["LegalEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("The legal record is append-only: rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("The legal record is append-only: rows are never deleted.")


class LegalEvent(models.Model):
    """One legal event. Rows are never edited or deleted (here and by a database trigger)."""

    kind = models.CharField(max_length=32, choices=LegalEventKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Kept as text as well as a link, and without a database constraint: deleting an
    # account must neither change nor block a row here, and the label still names them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )  # fmt: skip
    actor_label = models.CharField(max_length=320, blank=True)
    # What the event is about, as ids: the record outlives the rows it names.
    film_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    notice_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)

    objects: ClassVar[models.Manager[LegalEvent]] = LegalEventQuerySet.as_manager()

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("The legal record is append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("The legal record is append-only: rows are never deleted.")
