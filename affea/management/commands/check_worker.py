"""Container health check for RQ workers: is a worker on this host registered and beating?

With `--scheduler`, the queue's scheduler must be beating too (on this host or another):
without it no retry and no periodic job runs, while the worker itself looks healthy.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import django_rq
from django.core.management.base import BaseCommand, CommandError, CommandParser
from redis import Redis
from rq import Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import as_text, utcparse

SCHEDULER_MAX_AGE = 15


def _scheduler_beat(connection: Redis, queue: str) -> datetime | None:
    holder = connection.get(RQScheduler.get_locking_key(queue))
    if holder is None:
        return None
    raw = connection.hget(SCHEDULER_KEY_TEMPLATE % as_text(holder), "last_heartbeat")
    return utcparse(as_text(raw)).replace(tzinfo=UTC) if raw else None


class Command(BaseCommand):
    help = "Exit 0 when an RQ worker on this host has sent a heartbeat recently, else 1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-age", type=int, default=120, help="Oldest acceptable heartbeat, in seconds."
        )
        parser.add_argument(
            "--scheduler",
            action="store_true",
            help="Also require a live scheduler for the default queue.",
        )

    def handle(self, *args: Any, max_age: int, scheduler: bool, **options: Any) -> None:
        connection = django_rq.get_connection("default")
        if scheduler:
            beat = _scheduler_beat(connection, "default")
            if beat is None or beat < datetime.now(UTC) - timedelta(seconds=SCHEDULER_MAX_AGE):
                raise CommandError(
                    f"No live RQ scheduler for the default queue (heartbeat within "
                    f"{SCHEDULER_MAX_AGE}s): retries and periodic jobs are not running."
                )
        hostname = socket.gethostname()
        cutoff = datetime.now(UTC) - timedelta(seconds=max_age)
        for worker in Worker.all(connection=connection):
            beat = worker.last_heartbeat
            if worker.hostname == hostname and beat is not None:
                beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
                if beat >= cutoff:
                    self.stdout.write(f"Worker {worker.name} is alive (heartbeat {beat:%H:%M:%S}).")
                    return
        raise CommandError(f"No live RQ worker on {hostname} (heartbeat within {max_age}s).")
