"""The catalogue: categories, films, their renditions, and viewers' favourites and progress."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

QUALITY_HEIGHTS: dict[str, int] = {"120p": 120, "360p": 360, "720p": 720, "1080p": 1080}


class Quality(models.TextChoices):
    P120 = "120p", "120p"
    P360 = "360p", "360p"
    P720 = "720p", "720p"
    P1080 = "1080p", "1080p"


class ProcessingState(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    ERROR = "error", "Error"


def _extension(filename: str) -> str:
    """Keep only a short, safe extension of an uploaded name; the name itself is never used."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower().lstrip(".")
    return suffix if suffix.isalnum() and len(suffix) <= 5 else "bin"


def film_source_key(instance: Film, filename: str) -> str:
    # A fresh uuid per upload: a replaced source never overwrites the object an
    # in-flight job is still reading, and clean-up can tell old from new.
    return f"films/{instance.uuid}/source-{uuid.uuid4().hex[:12]}.{_extension(filename)}"


def film_image_key(instance: Film, filename: str) -> str:
    return f"films/{instance.uuid}/images/{uuid.uuid4().hex[:12]}.{_extension(filename)}"


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")

    class Meta:
        ordering = ("order", "name")
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Film(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="films"
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    director = models.CharField(max_length=200, blank=True)
    credits = models.TextField(blank=True, help_text="Cast and crew, one per line.")
    duration = models.FloatField(null=True, blank=True, editable=False, help_text="Seconds.")

    source = models.FileField(upload_to=film_source_key, max_length=500, blank=True)
    # Bumped whenever the source changes; jobs carry the version they were made
    # for and do nothing once it has moved on.
    source_version = models.PositiveIntegerField(default=0, editable=False)
    # The source version whose renditions viewers are shown: a replaced source stays on
    # air until the new version is ready (content_app.pipeline.live).
    live_version = models.PositiveIntegerField(default=0, editable=False)
    source_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    source_height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    thumbnail = models.ImageField(upload_to=film_image_key, max_length=500, blank=True)
    poster = models.ImageField(upload_to=film_image_key, max_length=500, blank=True)
    # Staff-uploaded images are kept; generated ones are replaced on reprocessing.
    thumbnail_generated = models.BooleanField(default=False, editable=False)
    poster_generated = models.BooleanField(default=False, editable=False)
    # Images generated for a source version not on air yet ({"version": N, field: key}):
    # shown when that version goes on air (content_app.pipeline.live), dropped with it.
    images_next = models.JSONField(default=dict, blank=True, editable=False)
    # Staff uploads waiting to be re-encoded by the worker (field -> uploaded key): viewers
    # are shown an upload only once re-encoded (content_app.pipeline.images).
    images_pending = models.JSONField(default=dict, blank=True, editable=False)
    # Why the worker refused a staff upload (field -> reason in plain words), shown on the
    # change page until that image is uploaded again or cleared.
    images_refused = models.JSONField(default=dict, blank=True, editable=False)

    processing_state = models.CharField(
        max_length=16, choices=ProcessingState.choices, default=ProcessingState.PENDING
    )
    processing_error = models.TextField(blank=True)
    processing_progress = models.PositiveSmallIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # The source whose processing was started: a source saved whose job Redis lost differs
    # from it, so the reconciler can tell that processing still has to start.
    processing_source = models.CharField(max_length=500, blank=True, editable=False)
    # What a step is waiting for ("storage unreachable, retry 2 at 10:42"), for staff.
    processing_note = models.CharField(max_length=300, blank=True, editable=False)
    # What ffprobe said of the current source (content_app.media.probe.ProbeResult).
    source_probe = models.JSONField(default=dict, blank=True, editable=False)

    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    is_featured = models.BooleanField(default=False)
    taken_down_at = models.DateTimeField(null=True, blank=True, editable=False)

    rights_holder = models.CharField(max_length=200, blank=True)
    rights_holder_email = models.EmailField(
        blank=True, help_text="Told when the film is taken down, and how to counter-notify."
    )
    licence = models.CharField(max_length=200, blank=True)
    # The window in which Affea may show the film; the legal app publishes and
    # unpublishes at its edges.
    licence_starts_at = models.DateTimeField(null=True, blank=True)
    licence_ends_at = models.DateTimeField(null=True, blank=True)
    public_playback = models.BooleanField(
        default=False,
        help_text="Anyone may play this film without signing in, on its page and in embeds.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-published_at", "-created_at")
        constraints = [
            models.CheckConstraint(
                condition=Q(processing_progress__lte=100), name="film_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(processing_state__in=ProcessingState.values),
                name="film_processing_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(is_published=False) | Q(published_at__isnull=False),
                name="film_published_has_time",
            ),
            models.CheckConstraint(
                condition=Q(licence_starts_at__isnull=True)
                | Q(licence_ends_at__isnull=True)
                | Q(licence_starts_at__lt=F("licence_ends_at")),
                name="film_licence_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=("is_published", "-published_at"))]

    def __str__(self) -> str:
        return self.title

    @property
    def is_taken_down(self) -> bool:
        return self.taken_down_at is not None


class RenditionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    ERROR = "error", "Error"


class Rendition(models.Model):
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="renditions")
    quality = models.CharField(max_length=8, choices=Quality.choices)
    source_version = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=RenditionStatus.choices, default=RenditionStatus.PENDING
    )
    height = models.PositiveIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    bitrate = models.PositiveIntegerField(null=True, blank=True, help_text="Bits per second.")
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes.")
    media_key = models.CharField(max_length=500, blank=True)
    playlist_key = models.CharField(max_length=500, blank=True)
    # What HLS playlists need, recorded from FFmpeg's output when the rendition is made
    # (content_app.media.packaging), so serving a playlist reads nothing from storage.
    hls_codecs = models.CharField(max_length=100, blank=True, help_text="RFC 6381 CODECS.")
    hls_bandwidth = models.PositiveIntegerField(
        null=True, blank=True, help_text="Peak segment bit rate, bits per second."
    )
    hls_average_bandwidth = models.PositiveIntegerField(
        null=True, blank=True, help_text="Average segment bit rate, bits per second."
    )
    hls_init_length = models.PositiveIntegerField(null=True, blank=True)
    hls_init_offset = models.PositiveBigIntegerField(null=True, blank=True)
    # Its length, the sum of its HLS segments (0 before it is packaged): a column, so lists
    # sign URLs for a film being reprocessed without reading every segment.
    seconds = models.FloatField(default=0.0)
    hls_segments = models.JSONField(
        default=list, blank=True, help_text="[duration s, length, offset] of each segment."
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a newer version replaced this one on air: kept (row and objects) while players
    # may still use playlists and URLs given out to it (content_app.pipeline.live).
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("film", "source_version", "quality"), name="rendition_one_per_quality"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RenditionStatus.values), name="rendition_status_valid"
            ),
        ]
        indexes = [
            # What the visibility rule asks of every film in a list ("has a playable
            # rendition"): answered from this narrow index instead of the wide rows.
            models.Index(
                fields=("film", "source_version"),
                condition=Q(status="ready") & ~Q(media_key=""),
                name="rendition_playable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.film_id} {self.quality}"

    @property
    def target_height(self) -> int:
        return QUALITY_HEIGHTS[self.quality]

    @property
    def is_playable(self) -> bool:
        """Encoded and stored: the row-level half of `selectors._playable`, for loaded rows."""
        return self.status == RenditionStatus.READY and bool(self.media_key)


def film_subtitle_key(instance: Subtitle, filename: str) -> str:
    return f"films/{instance.film.uuid}/subtitles/{uuid.uuid4().hex[:12]}.vtt"


class ProcessingStep(models.Model):
    """One step of processing a source version (probe, a rung, the ladder, images) as staff's
    timeline shows it: when its last attempt started and ended, how many attempts it took,
    and its last error or what it waits for."""

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="processing_steps")
    source_version = models.PositiveIntegerField()
    step = models.CharField(max_length=16)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("film", "source_version", "step"), name="processing_step_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.film_id} v{self.source_version} {self.step}"


class SourceUploadQuerySet(models.QuerySet["SourceUpload"]):
    def _cutoff(self) -> datetime:
        return timezone.now() - timedelta(seconds=settings.UPLOAD_ABANDON_AFTER)

    def abandoned(self) -> SourceUploadQuerySet:
        """Begun more than UPLOAD_ABANDON_AFTER ago: S3 drops their parts by that age."""
        return self.filter(created_at__lte=self._cutoff())

    def in_progress(self) -> SourceUploadQuerySet:
        return self.filter(created_at__gt=self._cutoff())


class SourceUpload(models.Model):
    """A direct upload of a source that staff began (content_app.uploads.multipart): what it
    is for, so every later request must name this key and come from this user. Kept in the
    database, not the cache, so an upload of hours survives Redis being emptied."""

    upload_id = models.CharField(max_length=1024, unique=True)  # S3's, opaque
    key = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # None: begun on the add page; the film is saved with the form, under `film_uuid`.
    film = models.ForeignKey(
        Film, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    film_uuid = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Set once S3 assembled the parts: the upload id is spent, the object is `key`. An add
    # page's upload stays until its film is saved, so a form sent back for another field's
    # error is sent again without uploading the file again.
    assembled_at = models.DateTimeField(null=True, blank=True)

    objects = SourceUploadQuerySet.as_manager()

    def __str__(self) -> str:
        return self.key


class Subtitle(models.Model):
    """A WebVTT subtitle or caption track of a film, in one language."""

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="subtitles")
    language = models.CharField(max_length=35, help_text="BCP 47 code, e.g. en, fr, pt-BR.")
    label = models.CharField(max_length=100, help_text="Shown in the captions menu.")
    file = models.FileField(upload_to=film_subtitle_key, max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("label",)
        constraints = [
            models.UniqueConstraint(fields=("film", "language"), name="subtitle_one_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.film_id} {self.language}"


class Favorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites"
    )
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "film"), name="favorite_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.film_id}"


class WatchProgress(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_progress"
    )
    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="watch_progress")
    position = models.FloatField(help_text="Seconds from the start.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "film"), name="progress_once_per_user"),
            models.CheckConstraint(condition=Q(position__gte=0), name="progress_not_negative"),
        ]
        indexes = [models.Index(fields=("user", "-updated_at"))]

    def __str__(self) -> str:
        return f"{self.user_id} {self.film_id} @ {self.position:.0f}s"
