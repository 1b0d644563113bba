"""Container health check for RQ workers: is a worker on this host registered and beating?"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import django_rq
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rq import Worker


class Command(BaseCommand):
    help = "Exit 0 when an RQ worker on this host has sent a heartbeat recently, else 1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-age", type=int, default=120, help="Oldest acceptable heartbeat, in seconds."
        )

    def handle(self, *args: Any, max_age: int, **options: Any) -> None:
        hostname = socket.gethostname()
        cutoff = datetime.now(UTC) - timedelta(seconds=max_age)
        workers = Worker.all(connection=django_rq.get_connection("default"))
        for worker in workers:
            beat = worker.last_heartbeat
            if worker.hostname == hostname and beat is not None:
                beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
                if beat >= cutoff:
                    self.stdout.write(f"Worker {worker.name} is alive (heartbeat {beat:%H:%M:%S}).")
                    return
        raise CommandError(f"No live RQ worker on {hostname} (heartbeat within {max_age}s).")
