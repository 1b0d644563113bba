"""RQ jobs of the DMCA procedure: mails and scheduled restorations. Each takes ids and reloads."""

from __future__ import annotations

import logging

from django.utils import timezone

from legal_app.dmca import counter, enqueue, mail
from legal_app.models import CounterNotice

logger = logging.getLogger(__name__)


def send_mail(kind: str, object_id: int) -> None:
    mail.MAILS[kind](object_id)


def restore_countered(counter_id: int) -> bool:
    """Restore the film of a counter-notice; runs again later if it woke up before its day."""
    if counter.counter_notice_restore_if_due(counter_id=counter_id):
        return True
    pending = CounterNotice.objects.filter(
        pk=counter_id,
        court_action_at__isnull=True,
        takedown__restored_at__isnull=True,
        restore_after__gt=timezone.now(),
    ).first()
    if pending is not None:
        enqueue.restoration_enqueue_at(pending.pk, pending.restore_after)
    return False


def restore_due() -> int:
    """Restore every countered film whose day has passed (after Redis lost its schedule)."""
    due = CounterNotice.objects.filter(
        court_action_at__isnull=True,
        takedown__restored_at__isnull=True,
        restore_after__lte=timezone.now(),
    ).values_list("pk", flat=True)
    return sum(counter.counter_notice_restore_if_due(counter_id=pk) for pk in due)
