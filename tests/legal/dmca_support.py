"""DMCA test helpers: valid submissions, notices taken through the real services, RQ runs."""

from __future__ import annotations

from typing import Any

import django_rq
from rq import SimpleWorker

from content_app.models import Film
from legal_app.dmca import services
from legal_app.dmca.counter import CounterSubmission, counter_notice_submit
from legal_app.models import CounterNotice, Notice, Takedown
from tests.content.factories import make_user
from users_app.models import User


def notice_payload(*films: Film, **changes: Any) -> dict[str, Any]:
    """A complete §512(c)(3)(A) notice naming `films`, as the API and the form take it."""
    data: dict[str, Any] = {
        "signature": "Jo Claimant",
        "copyrighted_work": "The short film “Harbour Lights” (2024), registration PA 1-234",
        "infringing_material": "\n".join(f"https://affea.example/films/{f.slug}/" for f in films),
        "address": "12 Rights Row, Albany, NY 12207, USA",
        "phone": "+1 (518) 555-0142",
        "email": "jo@claimant.example",
        "good_faith": True,
        "accurate_under_penalty": True,
    }
    data.update(changes)
    return data


def counter_payload(takedown: Takedown, **changes: Any) -> dict[str, Any]:
    """A complete §512(g)(3) counter-notice against `takedown`."""
    data: dict[str, Any] = {
        "takedown": takedown.reference,
        "signature": "Sam Maker",
        "material": f"My film “{takedown.film.title}”",
        "location_before_removal": f"https://affea.example/films/{takedown.film.slug}/",
        "mistake_statement": True,
        "name": "Sam Maker",
        "address": "3 Studio Lane, Portland, OR 97201, USA",
        "phone": "+1 503 555 0199",
        "email": "sam@maker.example",
        "jurisdiction_consent": True,
        "service_acceptance": True,
    }
    data.update(changes)
    return data


def notice_submit_naming(*films: Film) -> Notice:
    submission = services.NoticeSubmission(**notice_payload(*films), films=list(films))
    return services.notice_submit(submission=submission)


def notice_accept_naming(*films: Film, staff: User | None = None) -> list[Takedown]:
    """Take `films` down the way staff do: a notice received, reviewed and accepted."""
    staff = staff or make_user(staff=True)
    notice = notice_submit_naming(*films)
    services.notice_review_start(notice=notice, by=staff)
    return services.notice_accept(notice=notice, by=staff)


def counter_submit(takedown: Takedown, **changes: Any) -> CounterNotice:
    data = counter_payload(takedown, **changes)
    return counter_notice_submit(
        submission=CounterSubmission(takedown_reference=data.pop("takedown"), **data)
    )


def run_queued_jobs() -> int:
    """Run every queued job in this process, like `rqworker --burst`; return how many ran."""
    queue = django_rq.get_queue("default")
    count = queue.count
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return count
