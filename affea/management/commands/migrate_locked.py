"""`migrate`, one container at a time: web replicas starting together all run it.

Django takes no lock around migrations, so two replicas migrating at once race on the same
tables and one of them fails. On PostgreSQL this holds a session advisory lock for the run:
the others wait, then find nothing left to apply. (SQLite serves one host: no lock needed.)
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

# Any fixed 64-bit number; it only has to be the same in every container.
MIGRATION_LOCK = 0x4166_6665_614D  # "AffeaM"


class Command(BaseCommand):
    help = "Apply migrations while holding a database-wide lock (PostgreSQL)."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            call_command("migrate", interactive=False)
            return
        with connection.cursor() as cursor:
            self.stdout.write("Waiting for the migration lock...")
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            call_command("migrate", interactive=False)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
