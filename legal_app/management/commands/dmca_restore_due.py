"""Restore every countered film whose restoration day has passed (after Redis lost its schedule)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from legal_app.dmca.tasks import restore_due


class Command(BaseCommand):
    help = (
        "Restore films whose counter-notice restoration day has passed and against which no "
        "court action is recorded. Safe to run at any time: each film is restored once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(self.style.SUCCESS(f"Restored: {restore_due()} film(s)."))
