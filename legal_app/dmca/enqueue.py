"""Enqueue the DMCA jobs once the current transaction commits (never from inside it)."""

from __future__ import annotations

from datetime import datetime

import django_rq
from django.db import transaction
from rq import Queue, Retry

QUEUE = "default"
MAIL_RETRY = Retry(max=3, interval=[10, 60, 300])


def get_queue() -> Queue:
    return django_rq.get_queue(QUEUE)


def mail_later(kind: str, object_id: int) -> None:
    """Send mail `kind` (legal_app.dmca.mail.MAILS) about row `object_id` from a worker."""
    transaction.on_commit(
        lambda: get_queue().enqueue(
            "legal_app.dmca.tasks.send_mail", kind, object_id, retry=MAIL_RETRY
        )
    )


def restoration_schedule(counter_id: int, at: datetime) -> None:
    """Have RQ's scheduler run the restoration of counter-notice `counter_id` at `at`."""
    transaction.on_commit(lambda: restoration_enqueue_at(counter_id, at))


def restoration_enqueue_at(counter_id: int, at: datetime) -> None:
    get_queue().enqueue_at(
        at, "legal_app.dmca.tasks.restore_countered", counter_id, retry=MAIL_RETRY
    )
