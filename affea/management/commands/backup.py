"""`manage.py backup`: a consistent pg_dump of DATABASE_URL and a manifest of the bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from affea.backup import backup_create
from affea.errors import DomainError


class Command(BaseCommand):
    help = (
        "Write database.dump (pg_dump, custom format) and manifest.json (every storage key and "
        "its size) into a new directory; restore with pg_restore, then run restore_check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=None,
            help="New or empty directory (default: var/backups/<UTC time>).",
        )

    def handle(self, *args: Any, output_dir: Path | None, **options: Any) -> None:
        directory = output_dir or (
            settings.VAR_DIR / "backups" / timezone.now().strftime("%Y%m%dT%H%M%SZ")
        )
        try:
            result = backup_create(directory=directory)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {directory}: database dump ({result.dump_bytes} bytes), "
                f"{result.objects} storage objects listed."
            )
        )
