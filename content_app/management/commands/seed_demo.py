"""Give a fresh installation a staff account, a category and one demo film (idempotent)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from content_app import services
from content_app.models import Category, Film

DEMO_CATEGORY = {"slug": "demo", "name": "Demo"}
DEMO_FILM_SLUG = "affea-test-pattern"
DEMO_SECONDS = 10


def _generate_demo_video(path: Path) -> None:
    """Write a 10 s 720p test pattern with a tone, made by FFmpeg from nothing."""
    args = [
        settings.FFMPEG_BINARY, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=24:d={DEMO_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={DEMO_SECONDS}",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-t", str(DEMO_SECONDS), str(path),
    ]  # fmt: skip
    try:
        subprocess.run(args, check=True, capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CommandError(f"FFmpeg could not generate the demo video: {exc}") from exc


class Command(BaseCommand):
    help = "Create the demo staff account, a demo category and, when no film exists, a demo film."

    def handle(self, *args: Any, **options: Any) -> None:
        self._staff()
        category, _ = Category.objects.get_or_create(
            slug=DEMO_CATEGORY["slug"], defaults={"name": DEMO_CATEGORY["name"]}
        )
        if Film.objects.exists():
            self.stdout.write("Films exist already; no demo film added.")
            return
        with tempfile.TemporaryDirectory(prefix="affea-demo-") as directory:
            path = Path(directory) / "demo.mp4"
            _generate_demo_video(path)
            with transaction.atomic(), path.open("rb") as handle:
                film = Film(
                    title="Affea test pattern",
                    slug=DEMO_FILM_SLUG,
                    description="A generated test pattern that shows the whole pipeline at work.",
                    category=category,
                    director="FFmpeg lavfi",
                    year=2025,
                    rights_holder="Affea",
                    licence="CC0 1.0",
                )
                # The normal save: the signal enqueues processing once this commits.
                film.source.save("demo.mp4", File(handle), save=False)
                film.save()
                # Published now, so the home page shows it as soon as a rendition is ready.
                services.film_publish(film=film)
        self.stdout.write(
            f"Demo film “{film.title}” saved; the worker is processing it (state: "
            f"{film.processing_state})."
        )

    def _staff(self) -> None:
        user_model = get_user_model()
        email = settings.DEMO_STAFF_EMAIL
        if user_model.objects.filter(email__iexact=email).exists():
            self.stdout.write(f"Demo staff account {email} exists already.")
            return
        user_model.objects.create_superuser(
            email=email,
            password=settings.DEMO_STAFF_PASSWORD,
            email_confirmed_at=timezone.now(),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo staff account created: {email} / {settings.DEMO_STAFF_PASSWORD} "
                "(sign in at /admin/)."
            )
        )
