"""Shapes of the catalogue API (API.md); the film item is shared by lists and detail."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from affea.api import PageQuerySerializer
from content_app.models import QUALITY_HEIGHTS, Category, Film
from content_app.playback import image_url
from content_app.subtitles import subtitle_tracks


class CategorySerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ("id", "name", "slug")


class SubtitleTrackSerializer(serializers.Serializer[Any]):
    language = serializers.CharField()
    # DRF's metaclass takes declared fields off the class: "label" is a field here.
    label = serializers.CharField()  # type: ignore[assignment]
    url = serializers.URLField()


class FilmSerializer(serializers.ModelSerializer[Film]):
    """The film item of API.md (lists, detail, favourites): one serializer for responses and schema.

    Expects films from `selectors.with_card_data` (category, renditions and `is_favorite`).
    """

    category = serializers.SerializerMethodField()
    image_file = serializers.SerializerMethodField()
    poster_file = serializers.SerializerMethodField()
    video_file = serializers.SerializerMethodField()
    converted_files = serializers.SerializerMethodField()
    processing_error = serializers.SerializerMethodField()
    is_favorite = serializers.SerializerMethodField()
    subtitles = serializers.SerializerMethodField()

    class Meta:
        model = Film
        fields: tuple[str, ...] = (
            "id",
            "slug",
            "created_at",
            "title",
            "description",
            "category",
            "duration",
            "image_file",
            "video_file",
            "converted_files",
            "processing_state",
            "processing_error",
            "is_favorite",
            "poster_file",
            "year",
            "director",
            "credits",
            "published_at",
            "is_featured",
            "subtitles",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_category(self, film: Film) -> str | None:
        return film.category.name if film.category else None

    def _image(self, name: str | None) -> str | None:
        return image_url(name, request=self.context.get("request")) if name else None

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_image_file(self, film: Film) -> str | None:
        return self._image(film.thumbnail.name or film.poster.name)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_poster_file(self, film: Film) -> str | None:
        return self._image(film.poster.name or film.thumbnail.name)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_video_file(self, film: Film) -> None:
        # The uploaded original is never exposed: players use video-url or HLS.
        return None

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "boolean"}, "example": {"360p": True}}
    )
    def get_converted_files(self, film: Film) -> dict[str, bool]:
        renditions = sorted(film.renditions.all(), key=lambda r: QUALITY_HEIGHTS[r.quality])
        return {r.quality: r.is_playable for r in renditions}

    @extend_schema_field({"type": "string", "nullable": True})
    def get_processing_error(self, film: Film) -> str | None:
        request = self.context.get("request")
        if request is not None and request.user.is_staff and film.processing_error:
            return film.processing_error
        return None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_favorite(self, film: Film) -> bool:
        return bool(getattr(film, "is_favorite", False))

    @extend_schema_field(SubtitleTrackSerializer(many=True))
    def get_subtitles(self, film: Film) -> list[dict[str, str]]:
        tracks = subtitle_tracks(film, request=self.context.get("request"))
        return [{"language": t.language, "label": t.label, "url": t.url} for t in tracks]


class ContinueWatchingSerializer(FilmSerializer):
    position = serializers.FloatField(read_only=True)

    class Meta(FilmSerializer.Meta):
        fields = (*FilmSerializer.Meta.fields, "position")
        read_only_fields = fields


class FavoriteToggleSerializer(serializers.Serializer[Any]):
    video_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class SecondsField(serializers.FloatField):
    """Seconds as a JSON number (or its string): not `true`, which float() reads as 1."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class ProgressSerializer(serializers.Serializer[Any]):
    position = SecondsField(min_value=0, max_value=10**7)

    def validate_position(self, value: float) -> float:
        film: Film = self.context["film"]
        if film.duration is not None and value > film.duration + 1:
            raise serializers.ValidationError("The position is past the end of the film.")
        return value


class VideoURLQuerySerializer(serializers.Serializer[Any]):
    quality = serializers.ChoiceField(choices=list(QUALITY_HEIGHTS), required=False)


class VideoURLSerializer(serializers.Serializer[Any]):
    url = serializers.URLField()
    quality = serializers.ChoiceField(choices=list(QUALITY_HEIGHTS))
    expires_at = serializers.DateTimeField()


class FilmListQuerySerializer(PageQuerySerializer):
    category = serializers.CharField(required=False, max_length=100)
    search = serializers.CharField(required=False, max_length=200, allow_blank=True)
