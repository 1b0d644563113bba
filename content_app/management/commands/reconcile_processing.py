"""Re-enqueue processing that Redis lost, and keep the periodic run scheduled."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from content_app import pipeline


class Command(BaseCommand):
    help = (
        "Re-enqueue pipeline steps that Redis lost, fail films whose step RQ gave up on, and "
        "make sure the periodic reconciler job is scheduled."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = pipeline.films_reconcile()
        pipeline.ensure_reconciler_scheduled()
        for line in report:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Reconciled: {len(report)} action(s)."))
