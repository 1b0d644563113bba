"""Reads of the DMCA records that the API, pages and admin share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from content_app.models import Film
from legal_app.models import Notice, NoticeState, Takedown

MAX_REFERENCES = 50
_SPLIT = re.compile(r"[\s,;]+")
_SLUG = re.compile(r"^[-\w]+$")
# The viewer paths that name one film: its page, its embed, its API resources.
_PATHS = (
    re.compile(r"^/films/(?P<slug>[-\w]+)/?"),
    re.compile(r"^/embed/(?P<slug>[-\w]+)/?"),
    re.compile(r"^/api/content/(?:video-url/)?(?P<id>\d+)(?:/|$)"),
)


class UnknownFilms(ValueError):
    """Some references name no film; `references` are the ones as the sender wrote them."""

    def __init__(self, references: list[str]) -> None:
        self.references = references
        super().__init__(", ".join(references))


def material_references(text: str | list[str]) -> list[str]:
    """Split what a sender wrote (lines, commas or a list) into distinct references."""
    items = text if isinstance(text, list) else [text]
    found: list[str] = []
    for item in items:
        for part in _SPLIT.split(str(item)):
            if part and part not in found:
                found.append(part)
    return found


def _parse(reference: str) -> tuple[str, str] | None:
    """("id", "12") or ("slug", "the-film") for a reference, None when it names no film."""
    if reference.isdigit():
        return "id", reference
    path = urlsplit(reference if "//" in reference else f"//x/{reference.lstrip('/')}").path
    for pattern in _PATHS:
        match = pattern.match(path)
        if match:
            kind, value = next((k, v) for k, v in match.groupdict().items() if v)
            return kind, value
    if _SLUG.match(reference):
        return "slug", reference
    return None


def films_resolve(references: list[str]) -> list[Film]:
    """The film each reference names, in order, raising UnknownFilms naming every unknown one."""
    parsed = {ref: _parse(ref) for ref in references[:MAX_REFERENCES]}
    ids = [int(v) for p in parsed.values() if p and p[0] == "id" for v in [p[1]] if len(v) < 19]
    slugs = [p[1] for p in parsed.values() if p and p[0] == "slug"]
    films = Film.objects.filter(Q(pk__in=ids) | Q(slug__in=slugs))
    by_id = {str(film.pk): film for film in films}
    by_slug = {film.slug: film for film in by_id.values()}
    resolved: list[Film] = []
    unknown: list[str] = []
    for reference, found in parsed.items():
        film = None
        if found is not None:
            film = (by_id if found[0] == "id" else by_slug).get(found[1])
        if film is None:
            unknown.append(reference)
        elif film not in resolved:
            resolved.append(film)
    if unknown:
        raise UnknownFilms(unknown)
    return resolved


def takedown_by_reference(reference: str) -> Takedown | None:
    return (
        Takedown.objects.select_related("film", "notice")
        .filter(reference=reference.strip().upper())
        .first()
    )


def active_takedowns_of(film: Film) -> QuerySet[Takedown]:
    return Takedown.objects.filter(film=film, restored_at__isnull=True).select_related("notice")


@dataclass(frozen=True)
class RepeatInfringer:
    email: str
    accepted_notices: int
    films: list[str]


def repeat_infringers() -> list[RepeatInfringer]:
    """Rights-holder contacts whose films drew at least the policy's count of accepted notices."""
    threshold = settings.DMCA_REPEAT_INFRINGER_NOTICES
    rows = (
        Film.objects.exclude(rights_holder_email="")
        .filter(dmca_notices__state=NoticeState.ACCEPTED)
        .values("rights_holder_email")
        .annotate(accepted=Count("dmca_notices", distinct=True))
        .filter(accepted__gte=threshold)
        .order_by("-accepted", "rights_holder_email")
    )
    counts = {row["rights_holder_email"]: row["accepted"] for row in rows}
    titles: dict[str, list[str]] = {email: [] for email in counts}
    for email, title in (
        Film.objects.filter(rights_holder_email__in=counts)
        .order_by("title")
        .values_list("rights_holder_email", "title")
    ):
        titles[email].append(title)
    return [RepeatInfringer(email, count, titles[email]) for email, count in counts.items()]


def notices_for_review() -> QuerySet[Notice]:
    return Notice.objects.prefetch_related("films", "takedowns")
