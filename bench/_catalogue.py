"""The Django side of bench/api.py, run in a child process per catalogue database.

    _catalogue.py describe OUT.json       encode one small rendition as the pipeline does and
                                          write what `describe_rendition` records about it
    _catalogue.py seed FILMS HLS.json     empty the database and seed FILMS published films
                                          and the viewer (password hash BENCH_PASSWORD_HASH)
    _catalogue.py queries ENDPOINTS.json  print the queries a request to each endpoint makes

Settings and the database come from the environment bench/api.py passes.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCE_SECONDS = 120
SEARCH_WORD = "lighthouse"
# Every third of the first 90 films carries the search word. Both catalogues start with
# the same films, so a search answers the same 30 films at 100 and at 10,000.
SEARCH_MATCHES = 30
USER_PK = 4242
USER_EMAIL = "bench@example.com"
FILLER = (  # noqa: SIM905 - a word list reads better as prose than as 100 lines
    "amber autumn avenue balcony bicycle birch border bridge canal canyon carnival cedar "
    "chapel cinder cliff clock coast comet copper corridor cottage crane creek dawn delta "
    "desert drift dune echo ember estuary falcon ferry festival fjord forest fountain "
    "frost garden glacier granite harbour harvest heron hollow horizon island ivory jasmine "
    "journey kestrel lagoon lantern meadow mill mirror monsoon mountain nectar night oasis "
    "orchard paper pebble pier pine prairie quarry quiet rain raven reef ridge river saddle "
    "salt shadow shore signal silver snow sparrow spring steppe stone storm summer "
    "thunder tide timber tower tundra valley velvet village violet wander willow winter"
).split()


def _setup() -> None:
    import django

    django.setup()


def describe(out: Path) -> None:
    from content_app.media.ffmpeg import ffmpeg_timeout, rendition_args, run_ffmpeg
    from content_app.media.ladder import ladder_for
    from content_app.media.packaging import describe_rendition

    with tempfile.TemporaryDirectory(prefix="affea-bench-rendition-") as tmp:
        source, out_dir = Path(tmp) / "source.mp4", Path(tmp) / "out"
        out_dir.mkdir()
        lavfi = f"duration={SOURCE_SECONDS}"
        subprocess.run(
            [
                "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=24:{lavfi}",
                "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:{lavfi}",
                "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
                str(source),
            ],
            check=True,
        )  # fmt: skip
        rung = ladder_for(320, 180)[0]
        run_ffmpeg(
            rendition_args(source, out_dir, rung, progress=False),
            timeout=ffmpeg_timeout(SOURCE_SECONDS, height=rung.height),
        )
        fields = describe_rendition(out_dir)
    out.write_text(json.dumps(fields), encoding="utf-8")


def _text(rng: random.Random, number: int) -> tuple[str, str]:
    words = rng.sample(FILLER, 7)
    title = " ".join(words[:3]).title()
    description = (
        f"A short film about {words[3]} and {words[4]}, shot near the {words[5]} "
        f"over one {words[6]}. "
    ) * 3
    if number % 3 == 0 and number < 3 * SEARCH_MATCHES:
        # Half the matches in the title, half in the description only.
        if number % 2:
            description += f"The old {SEARCH_WORD} keeper remembers."
        else:
            title = f"The {SEARCH_WORD.title()} {words[0].title()}"
    return title, description


def seed(films: int, hls_file: Path) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from content_app.catalogue_cache import catalogue_changed
    from content_app.media.ladder import ladder_for
    from content_app.models import Category, Film, Rendition, RenditionStatus
    from users_app.models import User

    hls = json.loads(hls_file.read_text(encoding="utf-8"))
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    names = ("Drama", "Documentary", "Animation", "Comedy", "Experimental", "Horror")
    categories = Category.objects.bulk_create(
        Category(name=name, slug=name.lower(), order=i) for i, name in enumerate(names)
    )
    rng = random.Random(9)
    now = timezone.now()
    rows = []
    for number in range(films):
        title, description = _text(rng, number)
        rows.append(
            Film(
                title=title,
                slug=f"bench-film-{number}",
                description=description,
                credits=f"Director: {rng.choice(FILLER).title()} {rng.choice(FILLER).title()}",
                director=f"{rng.choice(FILLER).title()} {rng.choice(FILLER).title()}",
                year=1990 + number % 35,
                category=categories[number % len(categories)],
                duration=float(SOURCE_SECONDS),
                is_published=True,
                published_at=now - timedelta(minutes=number),
                processing_state="ready",
                processing_progress=100,
                thumbnail=f"films/bench-{number}/images/thumb.jpg",
                poster=f"films/bench-{number}/images/poster.jpg",
                thumbnail_generated=True,
                poster_generated=True,
            )
        )
    created = Film.objects.bulk_create(rows, batch_size=2000)
    rungs = ladder_for(1920, 1080)
    renditions = [
        Rendition(
            film=film,
            quality=rung.quality,
            status=RenditionStatus.READY,
            media_key=f"films/{film.uuid}/renditions/{rung.quality}/media.mp4",
            playlist_key=f"films/{film.uuid}/renditions/{rung.quality}/index.m3u8",
            bitrate=hls["hls_average_bandwidth"],
            size=hls["hls_segments"][-1][1] + hls["hls_segments"][-1][2],
            started_at=now,
            finished_at=now,
            **{**hls, "width": rung.width, "height": rung.height},
        )
        for film in created
        for rung in rungs
    ]
    Rendition.objects.bulk_create(renditions, batch_size=5000)
    User.objects.create(
        pk=USER_PK,
        email=USER_EMAIL,
        password=os.environ["BENCH_PASSWORD_HASH"],
        is_active=True,
        email_confirmed_at=now,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    catalogue_changed()
    print(json.dumps({"film": created[0].pk}))


def queries(endpoints_file: Path) -> None:
    """Print, per endpoint, the queries of a request served from the cache and of a miss."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from content_app.catalogue_cache import catalogue_changed
    from users_app.models import User

    token = str(AccessToken.for_user(User.objects.get(pk=USER_PK)))
    client = Client()
    counts: dict[str, str] = {}
    for label, path, signed_in in json.loads(endpoints_file.read_text(encoding="utf-8")):
        headers = {"Authorization": f"Bearer {token}"} if signed_in else {}
        catalogue_changed()
        made = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, headers={"Host": "127.0.0.1", **headers})
            if response.status_code != 200:
                raise SystemExit(f"in-process GET {path} answered {response.status_code}")
            made.append(len(captured))
        miss, hit = made
        counts[label] = str(hit) if hit == miss else f"{hit} (miss {miss})"
    print(json.dumps(counts))


if __name__ == "__main__":
    _setup()
    match sys.argv[1:]:
        case ["describe", out]:
            describe(Path(out))
        case ["seed", films, hls_file]:
            seed(int(films), Path(hls_file))
        case ["queries", endpoints_file]:
            queries(Path(endpoints_file))
        case _:
            raise SystemExit(__doc__)
