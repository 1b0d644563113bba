"""Catalogue and playback API: parse, call a selector or service, serialize."""

from __future__ import annotations

import gzip
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affea import metrics
from affea.api import OptionalPageNumberPagination
from affea.errors import DomainError
from content_app import catalogue_cache, hls, playback, selectors, services
from content_app.api.serializers import (
    CategorySerializer,
    ContinueWatchingSerializer,
    FavoriteToggleSerializer,
    FilmListQuerySerializer,
    FilmSerializer,
    ProgressSerializer,
    VideoURLQuerySerializer,
    VideoURLSerializer,
)
from content_app.models import Category, Film
from content_app.subtitles import master_entries as subtitle_master_entries

PLAYLIST_HEADERS = {"Cache-Control": "private, no-store"}
# Where a viewer's token goes in a shared master playlist; tokens are URL-safe base64,
# so braces never occur in one.
_TOKEN_SLOT = "{token}"  # noqa: S105 - a placeholder, not a secret
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip decides


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


def _list_cache_seconds() -> int:
    # Cached items carry signed image URLs: an entry must expire well before they do.
    return max(1, settings.AWS_QUERYSTRING_EXPIRE // 5)


class FilmItemListView(generics.ListAPIView[Film]):
    """A list of film items, bare or paginated with ?page= (OptionalPageNumberPagination)."""

    serializer_class = FilmSerializer
    pagination_class = OptionalPageNumberPagination


class FilmListView(FilmItemListView):
    permission_classes = [CatalogueReadable]

    @extend_schema(
        operation_id="content_list",
        parameters=[FilmListQuerySerializer],
        summary="List the films this viewer may see (bare list; paginated with ?page=)",
    )
    # DRF sends any HttpResponse as it is: the cached list goes out as stored bytes.
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        query = FilmListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = {"category": query.validated_data.get("category")}
        search = query.validated_data.get("search")
        unknown = set(request.query_params) - set(FilmListQuerySerializer().fields)
        if selectors.sees_every_film(request.user) or search or unknown:
            # Staff lists differ per state; free-text searches rarely repeat; parameters the
            # list does not read (which its page links repeat) must not each add an entry.
            return Response(self._payload(request.user, **filters, search=search))
        # Every viewer sees the same films: the anonymous list is shared by all web
        # processes until the catalogue changes, and a viewer's favourites are laid over it.
        parts = (request.scheme, request.get_host(), sorted(request.GET.lists()))
        timeout = _list_cache_seconds()

        def anonymous() -> Any:
            return catalogue_cache.cached(
                "film-list",
                parts,
                lambda: self._payload(AnonymousUser(), **filters),
                timeout=timeout,
            )

        favorites = (
            set(selectors.favorite_ids(user=request.user))
            if request.user.is_authenticated
            else set()
        )
        if favorites:
            return Response(_mark_favorites(anonymous(), favorites))
        # Kept rendered and gzipped as well: encoding a list of thousands of films costs
        # more than the rest of the request, and the plain JSON of 10,000 films is 14 MB to
        # read from Redis. bench/api.py, bare list at 10,000 films to one client: p95 659 ms
        # (in-process 52 ms) kept as plain JSON, 4.5 ms (in-process 3.7 ms) gzipped.
        gzipped = catalogue_cache.cached(
            "film-list-json-gz",
            parts,
            lambda: compress_string(JSONRenderer().render(anonymous())),
            timeout=timeout,
        )
        return _json_response(request, gzipped)

    def _payload(self, user: selectors.Viewer, **filters: str | None) -> Any:
        films = selectors.film_list(user=user, **filters)
        page = self.paginate_queryset(films)
        if page is None:
            return self.get_serializer(films, many=True).data
        return self.get_paginated_response(self.get_serializer(page, many=True).data).data


def _json_response(request: Request, gzipped: bytes) -> HttpResponse:
    """Send gzipped JSON as it is to clients that accept gzip, decompressed to the others."""
    if _ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
        response = HttpResponse(gzipped, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(gzipped), content_type="application/json")
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def _mark_favorites(payload: Any, favorites: set[int]) -> Any:
    if isinstance(payload, dict):
        return {**payload, "results": _mark_favorites(payload["results"], favorites)}
    return [{**item, "is_favorite": True} if item["id"] in favorites else item for item in payload]


class FilmDetailView(generics.RetrieveAPIView[Film]):
    serializer_class = FilmSerializer
    permission_classes = [CatalogueReadable]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if selectors.sees_every_film(request.user):
            return super().retrieve(request, *args, **kwargs)
        # Every viewer sees the same item but for `is_favorite`: shared, as the list is.
        pk = self.kwargs["pk"]
        item = catalogue_cache.cached(
            "film-detail",
            (request.scheme, request.get_host(), pk),
            lambda: self._item(AnonymousUser(), pk),
            timeout=_list_cache_seconds(),
        )
        if item is None:
            raise NotFound("No such film.")
        if request.user.is_authenticated and pk in selectors.favorite_ids(user=request.user):
            item = {**item, "is_favorite": True}
        return Response(item)

    def _item(self, user: selectors.Viewer, pk: int) -> dict[str, Any] | None:
        film = selectors.film_get(user=user, pk=pk)
        return None if film is None else dict(self.get_serializer(film).data)

    def get_object(self) -> Film:
        film = selectors.film_get(user=self.request.user, pk=self.kwargs["pk"])
        if film is None:
            raise NotFound("No such film.")
        return film


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

    def get_queryset(self) -> QuerySet[Film]:
        return selectors.favorite_films(user=self.request.user)  # type: ignore[arg-type]


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

    def get_queryset(self) -> QuerySet[Film]:
        return selectors.continue_watching(user=self.request.user)  # type: ignore[arg-type]


class _FirstRendererNegotiation(BaseContentNegotiation):
    """The view's first renderer whatever the Accept header: playlists are m3u8, errors JSON."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _anonymous_must_sign_in(request: Request) -> None:
    # Anonymous viewers play only public-playback films; for any other film they are asked
    # to sign in (401 tells an SPA to refresh its cookies), as before public playback.
    if not request.user.is_authenticated:
        raise NotAuthenticated()


class VideoURLView(APIView):
    permission_classes = [AllowAny]  # selectors.films_playable_by decides

    @extend_schema(
        parameters=[VideoURLQuerySerializer],
        responses={200: VideoURLSerializer},
        summary="A short-lived URL that streams one rendition with Range requests",
    )
    def get(self, request: Request, pk: int) -> Response:
        query = VideoURLQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        renditions = dict(
            selectors.playable_renditions(user=request.user, film_id=pk).values_list(
                "quality", "media_key"
            )
        )
        if not renditions:
            _anonymous_must_sign_in(request)
        signed = playback.video_url(
            renditions=renditions,
            quality=query.validated_data.get("quality"),
            request=request,
        )
        body = VideoURLSerializer(signed).data
        return Response(body, headers={"Cache-Control": "private, no-store"})


class _PlaylistRenderer(BaseRenderer):
    media_type = hls.PLAYLIST_CONTENT_TYPE
    format = "m3u8"


def _playlist_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type=hls.PLAYLIST_CONTENT_TYPE, headers=PLAYLIST_HEADERS)


_PLAYLIST_SCHEMA = {(200, hls.PLAYLIST_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.STR)}


class HLSMasterView(APIView):
    permission_classes = [AllowAny]  # selectors.films_playable_by decides
    renderer_classes = [JSONRenderer, _PlaylistRenderer]
    content_negotiation_class = _FirstRendererNegotiation

    @extend_schema(responses=_PLAYLIST_SCHEMA, summary="HLS master playlist over ready renditions")
    def get(self, request: Request, pk: int) -> HttpResponse:
        if selectors.sees_every_film(request.user):
            master = self._master(request.user, pk)
        else:
            # The playlist is the same for every viewer (and for every anonymous one) but
            # for its token: shared until the catalogue changes, the token filled in here.
            master = catalogue_cache.cached(
                "hls-master",
                (pk, request.user.is_authenticated),
                lambda: self._master(request.user, pk),
                timeout=_list_cache_seconds(),
            )
        if master is None:
            _anonymous_must_sign_in(request)
            raise NotFound("No such film, or nothing of it is playable.")
        film, text = master
        # Anonymous viewers of a public-playback film get tokens of user 0; a viewer's
        # token dies with the sign-in (JWT family or session) that fetched this master.
        binding = hls.variant_binding(
            auth=request.auth, session_key=request._request.session.session_key
        )
        token = hls.variant_token_for(film, request.user, binding=binding)
        return _playlist_response(text.replace(_TOKEN_SLOT, token))

    def _master(self, user: selectors.Viewer, pk: int) -> tuple[Film, str] | None:
        """The film and its master playlist with `_TOKEN_SLOT` where the token goes."""
        renditions = list(
            selectors.playable_renditions(user=user, film_id=pk).select_related("film")
        )
        if not renditions:
            return None
        film = renditions[0].film
        subtitles = subtitle_master_entries(film, token=_TOKEN_SLOT)
        text = hls.master_playlist(renditions=renditions, token=_TOKEN_SLOT, subtitles=subtitles)
        return film, text


class HLSVariantView(APIView):
    # The token is the credential: hls.js fetches variants without cookies when the SPA
    # lives on another origin. It dies with the sign-in that fetched the master.
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
        film_id = int(pk)  # a regex route (at most 18 digits): the id arrives as text
        user_id, version = hls.variant_token_grant(
            request.query_params.get("token", ""), film_id=film_id
        )
        user = selectors.playback_viewer(user_id)
        if user is None:
            raise DomainError("This playlist link is invalid.", status=403)
        rendition = selectors.variant_rendition(
            user=user, film_id=film_id, quality=quality, version=version
        )
        if rendition is None:
            raise NotFound("No such film, or this quality is not playable.")
        signed = playback.signed_media_url(
            rendition.media_key, ttl=playback.playback_ttl(rendition.film), request=request
        )
        metrics.playback_url_issued(mode="hls")
        return _playlist_response(hls.variant_playlist(rendition=rendition, media_url=signed.url))
