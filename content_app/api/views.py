"""Catalogue and playback API: parse, call a selector or service, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affea.api import OptionalPageNumberPagination
from affea.errors import DomainError
from content_app import hls, playback, selectors, services
from content_app.api import caching
from content_app.api.serializers import (
    CategorySerializer,
    ContinueWatchingSerializer,
    FavoriteToggleSerializer,
    FilmListQuerySerializer,
    FilmSerializer,
    ProgressSerializer,
    VideoURLQuerySerializer,
    VideoURLSerializer,
    film_items,
)
from content_app.models import QUALITY_HEIGHTS, Category, Film, RenditionStatus
from users_app.authentication import CookieJWTAuthentication, OriginSessionAuthentication

PLAYLIST_HEADERS = {"Cache-Control": "private, no-store"}


class CatalogueReadable(BasePermission):
    """Everyone reads a public catalogue; a private one (setting) needs a signed-in viewer."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not settings.CATALOGUE_PRIVATE:
            return True
        return bool(request.user and request.user.is_authenticated)


def _visible_film(request: Request, pk: int) -> Film:
    film = selectors.films_visible_to(request.user).filter(pk=pk).first()
    if film is None:
        raise NotFound("No such film.")
    return film


class FilmItemListView(generics.GenericAPIView[Film]):
    """A list of film items, bare or paginated with ?page= (OptionalPageNumberPagination)."""

    serializer_class = FilmSerializer
    pagination_class = OptionalPageNumberPagination
    extra_fields: tuple[str, ...] = ()

    def films(self) -> QuerySet[Film]:
        raise NotImplementedError

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return Response(self.payload(request, user=request.user))

    def payload(self, request: Request, *, user: Any) -> Any:
        rows_query = selectors.film_item_rows(self.films(), user=user, extra=self.extra_fields)
        page = self.paginate_queryset(rows_query)
        rows = selectors.attach_converted_files(list(page if page is not None else rows_query))
        items = film_items(rows, request=request)
        if page is not None:
            return self.get_paginated_response(items).data
        return items


class FilmListView(FilmItemListView):
    permission_classes = [CatalogueReadable]

    @extend_schema(
        operation_id="content_list",
        parameters=[FilmListQuerySerializer],
        summary="List the films this viewer may see (bare list; paginated with ?page=)",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        if selectors.sees_every_film(request.user):
            return Response(self.payload(request, user=request.user))
        # Everyone else sees what an anonymous visitor sees: that list is cached, and a
        # viewer's favourites are laid over it.
        query = tuple((name, tuple(values)) for name, values in sorted(request.GET.lists()))
        key = ("films", request.scheme, request.get_host(), query)
        films = caching.cached_list(key, lambda: self.payload(request, user=AnonymousUser()))
        if request.user.is_authenticated:
            body = films.json(set(selectors.favorite_ids(user=request.user)))
        else:
            body = films.anonymous_json
        return HttpResponse(body, content_type="application/json")

    def films(self) -> QuerySet[Film]:
        query = FilmListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.film_list(
            user=self.request.user,
            category=query.validated_data.get("category"),
            search=query.validated_data.get("search"),
        )


class FilmDetailView(APIView):
    permission_classes = [CatalogueReadable]

    @extend_schema(responses={200: FilmSerializer})
    def get(self, request: Request, pk: int) -> Response:
        films = selectors.films_visible_to(request.user).filter(pk=pk)
        rows = list(selectors.film_item_rows(films, user=request.user))
        if not rows:
            raise NotFound("No such film.")
        return Response(film_items(selectors.attach_converted_files(rows), request=request)[0])


class CategoryListView(generics.ListAPIView[Category]):
    serializer_class = CategorySerializer
    pagination_class = None
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.categories()


class FavoriteToggleView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=FavoriteToggleSerializer,
        responses={200: {"type": "array", "items": {"type": "integer"}}},
        summary="Toggle a film in the viewer's favourites; returns their favourite ids",
    )
    def post(self, request: Request) -> Response:
        body = FavoriteToggleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        film = _visible_film(request, body.validated_data["video_id"])
        return Response(services.favorite_toggle(user=request.user, film=film))


class FavoriteListView(FilmItemListView):
    permission_classes = [IsAuthenticated]

    def films(self) -> QuerySet[Film]:
        return selectors.favorite_films(user=self.request.user)


class ProgressView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ProgressSerializer,
        responses={204: None},
        summary="Record where the viewer stopped watching",
    )
    def put(self, request: Request, pk: int) -> Response:
        film = _visible_film(request, pk)
        body = ProgressSerializer(data=request.data, context={"film": film})
        body.is_valid(raise_exception=True)
        services.watch_progress_record(
            user=request.user, film=film, position=body.validated_data["position"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContinueWatchingView(FilmItemListView):
    serializer_class = ContinueWatchingSerializer
    permission_classes = [IsAuthenticated]
    extra_fields = ("position",)

    def films(self) -> QuerySet[Film]:
        return selectors.continue_watching(user=self.request.user)


class _FirstRendererNegotiation(BaseContentNegotiation):
    """The view's first renderer whatever the Accept header: playlists are m3u8, errors JSON."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class VideoURLView(APIView):
    permission_classes = [IsAuthenticated]
    # One format: skip parsing Accept headers on the hottest endpoint.
    content_negotiation_class = _FirstRendererNegotiation

    def get_authenticators(self) -> list[BaseAuthentication]:
        # The account behind a JWT is checked by the view's own query (viewer_renditions).
        return [CookieJWTAuthentication(defer_account=True), OriginSessionAuthentication()]

    @extend_schema(
        parameters=[VideoURLQuerySerializer],
        responses={200: VideoURLSerializer},
        summary="A short-lived URL that streams one rendition with Range requests",
    )
    def get(self, request: Request, pk: int) -> Response:
        quality = request.query_params.get("quality")
        if quality is not None and quality not in QUALITY_HEIGHTS:
            raise ValidationError({"quality": [f"Use one of {', '.join(QUALITY_HEIGHTS)}."]})
        renditions = playback.viewer_renditions(user=request.user, token=request.auth, film_id=pk)
        signed = playback.video_url(renditions=renditions, quality=quality, request=request)
        return Response(
            {"url": signed.url, "quality": signed.quality, "expires_at": signed.expires_at},
            headers={"Cache-Control": "private, no-store"},
        )


class _PlaylistRenderer(BaseRenderer):
    media_type = hls.PLAYLIST_CONTENT_TYPE
    format = "m3u8"


def _playlist_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type=hls.PLAYLIST_CONTENT_TYPE, headers=PLAYLIST_HEADERS)


_PLAYLIST_SCHEMA = {(200, hls.PLAYLIST_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.STR)}


class HLSMasterView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, _PlaylistRenderer]
    content_negotiation_class = _FirstRendererNegotiation

    @extend_schema(responses=_PLAYLIST_SCHEMA, summary="HLS master playlist over ready renditions")
    def get(self, request: Request, pk: int) -> HttpResponse:
        film = selectors.film_get(user=request.user, pk=pk)
        if film is None:
            raise NotFound("No such film.")
        ready = [
            r for r in film.renditions.all() if r.status == RenditionStatus.READY and r.media_key
        ]
        if not ready:
            raise NotFound("No playable rendition of this film.")
        # IsAuthenticated guarantees a saved user here.
        token = hls.variant_token_for(film, int(request.user.pk or 0))
        return _playlist_response(hls.master_playlist(renditions=ready, token=token))


class HLSVariantView(APIView):
    # The signed token is the credential: hls.js fetches variants without cookies when
    # the SPA lives on another origin.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, _PlaylistRenderer]
    content_negotiation_class = _FirstRendererNegotiation

    @extend_schema(
        parameters=[OpenApiParameter("token", str, required=True)],
        responses=_PLAYLIST_SCHEMA,
        summary="HLS variant playlist of one rendition (URIs are signed, with byte ranges)",
    )
    def get(self, request: Request, pk: str, quality: str) -> HttpResponse:
        film_id = int(pk)  # a regex route: the captured id arrives as text
        user_id = hls.variant_token_user(request.query_params.get("token", ""), film_id=film_id)
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise DomainError("This playlist link is invalid.", status=403)
        film = selectors.film_get(user=user, pk=film_id)
        if film is None:
            raise NotFound("No such film.")
        rendition = playback.rendition_for(film, quality)
        signed = playback.signed_media_url(
            rendition.media_key, ttl=playback.playback_ttl(film), request=request
        )
        info = hls.rendition_info(rendition)
        return _playlist_response(hls.variant_playlist(info=info, media_url=signed.url))
