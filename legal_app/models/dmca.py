"""DMCA notice-and-takedown: notices (§512(c)(3)), takedowns and counter-notices (§512(g))."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from content_app.models import Film


def _reference(prefix: str) -> str:
    # Unguessable: a counter-notice is filed against a takedown by its reference alone.
    return f"{prefix}-{secrets.token_hex(6).upper()}"


def notice_reference() -> str:
    return _reference("DMCA")


def takedown_reference() -> str:
    return _reference("TD")


def counter_notice_reference() -> str:
    return _reference("CN")


class NoticeState(models.TextChoices):
    RECEIVED = "received", "Received"
    UNDER_REVIEW = "under_review", "Under review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    INCOMPLETE = "incomplete", "Incomplete"


class Notice(models.Model):
    """A notification of claimed infringement, one field per element of §512(c)(3)(A)."""

    reference = models.CharField(max_length=32, unique=True, default=notice_reference)
    state = models.CharField(
        max_length=16, choices=NoticeState.choices, default=NoticeState.RECEIVED
    )
    signature = models.CharField("signature (full legal name)", max_length=200)
    copyrighted_work = models.TextField("copyrighted work")
    infringing_material = models.TextField("infringing material, as given")
    films = models.ManyToManyField(Film, related_name="dmca_notices")
    address = models.TextField("postal address")
    phone = models.CharField("telephone", max_length=40)
    email = models.EmailField()
    good_faith = models.BooleanField("good-faith statement")
    accurate_under_penalty = models.BooleanField("accuracy and authority statement")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    rejection_reason = models.TextField(blank=True)
    missing_items = models.TextField(blank=True)

    class Meta:
        ordering = ("-received_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=NoticeState.values), name="notice_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(good_faith=True, accurate_under_penalty=True),
                name="notice_statements_made",
            ),
            models.CheckConstraint(
                condition=~Q(state=NoticeState.REJECTED) | ~Q(rejection_reason=""),
                name="notice_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state=NoticeState.INCOMPLETE) | ~Q(missing_items=""),
                name="notice_incomplete_says_what",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Takedown(models.Model):
    """One film taken down under one notice; restoration keeps the row, so history stays."""

    reference = models.CharField(max_length=32, unique=True, default=takedown_reference)
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="takedowns")
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="takedowns")
    taken_down_at = models.DateTimeField()
    taken_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    restored_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Empty with restored_at set: the scheduler restored it after a counter-notice.
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    restoration_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-taken_down_at",)
        constraints = [
            models.UniqueConstraint(fields=("film", "notice"), name="takedown_once_per_notice"),
            models.CheckConstraint(
                condition=Q(restored_at__isnull=True) | ~Q(restoration_reason=""),
                name="takedown_restoration_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.film})"

    @property
    def is_active(self) -> bool:
        return self.restored_at is None


class CounterNotice(models.Model):
    """A counter-notification (§512(g)(3)) against one takedown, and its restoration schedule."""

    reference = models.CharField(max_length=32, unique=True, default=counter_notice_reference)
    takedown = models.OneToOneField(
        Takedown, on_delete=models.PROTECT, related_name="counter_notice"
    )
    signature = models.CharField("signature (full legal name)", max_length=200)
    material = models.TextField("material removed")
    location_before_removal = models.TextField("where it appeared before removal")
    mistake_statement = models.BooleanField("good-faith statement of mistake")
    name = models.CharField(max_length=200)
    address = models.TextField("postal address")
    phone = models.CharField("telephone", max_length=40)
    email = models.EmailField(blank=True)
    jurisdiction_consent = models.BooleanField("consent to jurisdiction")
    service_acceptance = models.BooleanField("acceptance of service of process")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    restore_after = models.DateTimeField()
    court_action_at = models.DateTimeField(null=True, blank=True)
    court_action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    court_action_note = models.TextField(blank=True)

    class Meta:
        ordering = ("-received_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    mistake_statement=True, jurisdiction_consent=True, service_acceptance=True
                ),
                name="counter_notice_statements_made",
            ),
        ]

    def __str__(self) -> str:
        return self.reference
