"""How long a replaced version's files and a reprocessed film's playback URLs live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from content_app import playback
from content_app.models import Film, Rendition, RenditionStatus
from content_app.pipeline import film_processing_restart
from content_app.pipeline.live import film_go_live_if_due, renditions_retired_delete
from tests.content.factories import make_film

pytestmark = pytest.mark.django_db
HOUR = 3600.0


def test_a_replaced_versions_files_outlive_every_playlist_url_given_out() -> None:
    # An hour-long film: its variant playlists sign segment URLs for the TTL plus an hour.
    # The files once went 6 minutes after the switch; a viewer mid-film then met 404s.
    film = make_film(duration=HOUR)
    Rendition.objects.filter(film=film).update(hls_segments=[[4.0, 1000, 0]] * 900, seconds=3600.0)
    Film.objects.filter(pk=film.pk).update(source_version=1)
    Rendition.objects.create(
        film=film, quality="360p", height=360, source_version=1, status=RenditionStatus.READY,
        media_key="films/x/new.mp4", playlist_key="films/x/new.m3u8",
    )  # fmt: skip

    assert film_go_live_if_due(film_id=film.pk, version=1, complete=True)

    old = Rendition.objects.get(film=film, source_version=0)
    assert old.retired_at is not None
    lasts = timedelta(seconds=settings.AWS_QUERYSTRING_EXPIRE + HOUR)
    assert renditions_retired_delete(now=old.retired_at + lasts) == []
    assert Rendition.objects.filter(pk=old.pk).exists()
    gone = renditions_retired_delete(now=old.retired_at + lasts + timedelta(seconds=61))
    assert gone == [f"film {film.pk}: replaced rendition {old.pk} deleted"]
    assert not Rendition.objects.filter(pk=old.pk).exists()


def test_a_film_being_reprocessed_keeps_its_playback_url_lifetime() -> None:
    # The duration is cleared until the new probe runs: URLs of the version still on air
    # lived 5 minutes, captions claimed 1 s.
    film = make_film(duration=HOUR, source="films/x/source.mp4")
    Rendition.objects.filter(film=film).update(hls_segments=[[4.0, 1000, 0]] * 900, seconds=3600.0)
    before = playback.playback_ttl(film)

    film_processing_restart(film=film)

    film.refresh_from_db()
    assert film.duration is None  # the pipeline's "not probed yet"
    assert playback.playback_ttl(film) == before == settings.AWS_QUERYSTRING_EXPIRE + HOUR


def test_a_film_with_nothing_on_air_has_the_base_lifetime_until_probed() -> None:
    film = make_film(duration=HOUR, source="films/x/source.mp4", status=RenditionStatus.ERROR)

    film_processing_restart(film=film)

    film.refresh_from_db()
    assert timedelta(seconds=playback.playback_ttl(film)) == timedelta(
        seconds=settings.AWS_QUERYSTRING_EXPIRE
    )
