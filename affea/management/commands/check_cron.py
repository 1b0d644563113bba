"""Container health check for RQ's cron scheduler: does one on this host beat?"""

from __future__ import annotations

import socket
from typing import Any

import django_rq
from django.core.management.base import BaseCommand, CommandError
from rq.cron import CronScheduler


class Command(BaseCommand):
    help = "Exit 0 when an RQ cron scheduler on this host is registered and beating, else 1."

    def handle(self, *args: Any, **options: Any) -> None:
        hostname = socket.gethostname()
        # all() first drops schedulers whose heartbeat is older than RQ's TTL.
        for scheduler in CronScheduler.all(connection=django_rq.get_connection("default")):
            if scheduler.hostname == hostname:
                self.stdout.write(f"Cron scheduler {scheduler.name} is alive.")
                return
        raise CommandError(f"No live RQ cron scheduler on {hostname}.")
