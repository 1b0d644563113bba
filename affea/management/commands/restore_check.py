"""`manage.py restore_check DIR`: after pg_restore, does every row still have its objects?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from affea.backup import backup_check

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Check a backup directory against the database DATABASE_URL names (restored from it): "
        "the dump matches its checksum and every object a row points to is in the manifest "
        "and in storage with its recorded size. Exit 1 listing what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="A directory `backup` wrote.")

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        result = backup_check(directory=directory)
        if result.problems:
            shown = "\n".join(result.problems[:SHOWN])
            more = len(result.problems) - SHOWN
            raise CommandError(
                f"{len(result.problems)} problems in {result.checked} objects checked:\n{shown}"
                + (f"\n… and {more} more" if more > 0 else "")
            )
        self.stdout.write(
            self.style.SUCCESS(f"All {result.checked} objects the rows point to are present.")
        )
