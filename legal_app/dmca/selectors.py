"""Reads of the DMCA records that the API, pages and admin share."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from affea.numbers import parse_id
from content_app.models import Film
from content_app.selectors import films_known_to_public
from legal_app.models import Notice, NoticeState, Takedown

MAX_REFERENCES = 50
_SPLIT = re.compile(r"[\s,;]+")
_SLUG = re.compile(r"^[-\w]+$")
# The viewer paths that name one film: its page, its embed, its API resources.
_PATHS = (
    re.compile(r"^/films/(?P<slug>[-\w]+)/?"),
    re.compile(r"^/embed/(?P<slug>[-\w]+)/?"),
    re.compile(r"^/api/content/(?:video-url/)?(?P<id>[0-9]{1,18})(?:/|$)"),
)


class MaterialRefused(ValueError):
    """The films a notice names cannot be taken as written; `message` says why, to the sender."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class UnknownFilms(MaterialRefused):
    """Some references name no film; `references` are the ones as the sender wrote them."""

    def __init__(self, references: list[str]) -> None:
        self.references = references
        super().__init__(f"We found no film on Affea for: {', '.join(references)}.")


class TooManyFilms(MaterialRefused):
    def __init__(self) -> None:
        super().__init__(
            f"A notice may name at most {MAX_REFERENCES} films; send the others in another notice."
        )


def material_references(text: str | list[str]) -> list[str]:
    """Split what a sender wrote (lines, commas or a list) into distinct references."""
    items = text if isinstance(text, list) else [text]
    found: dict[str, None] = {}  # ordered, and a linear-time check for repeats
    for item in items:
        for part in _SPLIT.split(str(item)):
            if part:
                found[part] = None
    return list(found)


def _parse(reference: str) -> tuple[str, str] | None:
    """("id", "12") or ("slug", "the-film") for a reference, None when it names no film."""
    if parse_id(reference) is not None:
        return "id", reference
    try:
        path = urlsplit(reference if "//" in reference else f"//x/{reference.lstrip('/')}").path
    except ValueError:  # e.g. "http://[affea.example/": not a URL, so no film
        return None
    for pattern in _PATHS:
        match = pattern.match(path)
        if match:
            kind, value = next((k, v) for k, v in match.groupdict().items() if v)
            return kind, value
    if _SLUG.match(reference):
        return "slug", reference
    return None


def films_resolve(references: list[str]) -> list[Film]:
    """The film each reference names, in order, raising UnknownFilms naming every unknown one.

    Only films the public can see, or could before a takedown, are found: a notice naming
    an unpublished film gets the same answer as one naming no film, so the form cannot tell
    anyone which unreleased films exist (or mail them their titles).
    """
    if len(references) > MAX_REFERENCES:
        raise TooManyFilms()
    parsed = {ref: _parse(ref) for ref in references}
    ids = [int(p[1]) for p in parsed.values() if p and p[0] == "id"]
    slugs = [p[1] for p in parsed.values() if p and p[0] == "slug"]
    films = films_known_to_public().filter(Q(pk__in=ids) | Q(slug__in=slugs))
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


def other_standing_takedowns(takedown: Takedown) -> list[str]:
    """References of the film's other takedowns still in force: lifting `takedown` alone
    does not bring the film back while any of them stands."""
    others = Takedown.objects.filter(film_id=takedown.film_id, restored_at__isnull=True)
    return list(
        others.exclude(pk=takedown.pk).order_by("taken_down_at").values_list("reference", flat=True)
    )


@dataclass(frozen=True)
class RepeatInfringer:
    email: str
    accepted_notices: int
    films: list[str]


def repeat_infringers() -> list[RepeatInfringer]:
    """Rights-holder contacts (any case) with at least the policy's count of accepted notices
    whose takedown still stands: one restored (withdrawn, mistaken, countered without a
    court action) is no strike, and a notice naming only films already down under an earlier
    standing notice (a complaint sent twice, or by a second agent) draws none either."""
    standing = (
        Takedown.objects.filter(restored_at__isnull=True, notice__state=NoticeState.ACCEPTED)
        .exclude(film__rights_holder_email="")
        .annotate(email=Lower("film__rights_holder_email"))
        .order_by("notice__received_at", "notice_id")
        .values_list("film_id", "email", "film__title", "notice_id")
    )
    # Each film's strike is the earliest standing notice that named it.
    first: dict[int, tuple[str, str, int]] = {}
    for film_id, email, title, notice_id in standing:
        first.setdefault(film_id, (email, title, notice_id))
    notices: dict[str, set[int]] = defaultdict(set)
    films: dict[str, list[str]] = defaultdict(list)
    for email, title, notice_id in first.values():
        notices[email].add(notice_id)
        films[email].append(title)
    rows = [
        RepeatInfringer(email, len(struck), sorted(films[email], key=str.casefold))
        for email, struck in notices.items()
        if len(struck) >= settings.DMCA_REPEAT_INFRINGER_NOTICES
    ]
    return sorted(rows, key=lambda row: (-row.accepted_notices, row.email))


def notices_for_review() -> QuerySet[Notice]:
    return Notice.objects.prefetch_related("films", "takedowns")
