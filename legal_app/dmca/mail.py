"""Compose and send the DMCA mails (plain text, from templates) and record each one sent.

Called only from RQ jobs (legal_app.dmca.tasks), which pass ids: a mail says what the
rows say when it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from content_app.selectors import films_visible_to
from legal_app.dmca.elements import STATEMENTS
from legal_app.dmca.selectors import other_standing_takedowns
from legal_app.models import CounterNotice, LegalEventKind, Notice, Takedown
from legal_app.record import event_record

logger = logging.getLogger(__name__)


def _agent() -> dict[str, str]:
    return {
        "name": settings.DMCA_AGENT_NAME,
        "address": settings.DMCA_AGENT_ADDRESS,
        "email": settings.DMCA_AGENT_EMAIL,
        "phone": settings.DMCA_AGENT_PHONE,
    }


def _send(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, object],
    notice_id: int,
    film_id: int | None = None,
) -> None:
    context = {
        **context,
        "site_url": settings.SITE_URL,
        "agent": _agent(),
        "dmca_tz": settings.DMCA_TIME_ZONE,
        "statements": STATEMENTS,
    }
    body = render_to_string(f"legal_app/email/{template}.txt", context)
    EmailMessage(subject=subject, body=body, to=to, reply_to=[settings.DMCA_AGENT_EMAIL]).send()
    event_record(
        kind=LegalEventKind.MAIL_SENT,
        summary=f"Mail sent: {subject}"[:500],
        actor_label="system",
        notice_id=notice_id,
        film_id=film_id,
        details={"template": template, "to": to, "subject": subject},
    )
    logger.info("sent DMCA mail %s", template)


def _notice(notice_id: int) -> Notice:
    return Notice.objects.prefetch_related("films").get(pk=notice_id)


def notice_confirmation(notice_id: int) -> None:
    notice = _notice(notice_id)
    _send(
        to=[notice.email],
        subject=f"Affea received your DMCA notice {notice.reference}",
        template="notice_confirmation",
        context={"notice": notice},
        notice_id=notice.pk,
    )


def notice_staff(notice_id: int) -> None:
    notice = _notice(notice_id)
    path = reverse("admin:legal_app_notice_change", args=[notice.pk])
    _send(
        to=list(settings.DMCA_STAFF_EMAILS),
        subject=f"New DMCA notice {notice.reference} to review",
        template="notice_staff",
        context={"notice": notice, "link": f"{settings.SITE_URL}{path}"},
        notice_id=notice.pk,
    )


def notice_incomplete(notice_id: int) -> None:
    notice = _notice(notice_id)
    _send(
        to=[notice.email],
        subject=f"Your DMCA notice {notice.reference} is incomplete",
        template="notice_incomplete",
        context={"notice": notice, "form": f"{settings.SITE_URL}{reverse('legal:dmca')}"},
        notice_id=notice.pk,
    )


def notice_rejected(notice_id: int) -> None:
    notice = _notice(notice_id)
    _send(
        to=[notice.email],
        subject=f"Your DMCA notice {notice.reference} was not accepted",
        template="notice_rejected",
        context={"notice": notice},
        notice_id=notice.pk,
    )


def _takedown(takedown_id: int) -> Takedown:
    return Takedown.objects.select_related("film", "notice").get(pk=takedown_id)


def takedown_rights_holder(takedown_id: int) -> None:
    """Tell the film's rights holder what was taken down, why, and how to counter-notify."""
    takedown = _takedown(takedown_id)
    if not takedown.film.rights_holder_email:
        logger.info("takedown %s: the film has no rights-holder contact", takedown.reference)
        return
    counter_path = f"{reverse('legal:counter_notice')}?takedown={takedown.reference}"
    _send(
        to=[takedown.film.rights_holder_email],
        subject=f"“{takedown.film.title}” was taken down from Affea ({takedown.reference})",
        template="takedown_rights_holder",
        context={"takedown": takedown, "counter_link": f"{settings.SITE_URL}{counter_path}"},
        notice_id=takedown.notice_id,
        film_id=takedown.film_id,
    )


def restored_rights_holder(takedown_id: int) -> None:
    takedown = _takedown(takedown_id)
    if not takedown.film.rights_holder_email:
        return
    # Lifting the takedown shows the film again only if nothing else keeps it from viewers
    # (unpublished meanwhile, its licence ended): the mail says which.
    shown = films_visible_to(AnonymousUser()).filter(pk=takedown.film_id).exists()
    title = takedown.film.title
    _send(
        to=[takedown.film.rights_holder_email],
        subject=f"“{title}” is back on Affea ({takedown.reference})"
        if shown
        else f"The takedown of “{title}” is lifted ({takedown.reference})",
        template="restored_rights_holder",
        context={
            "takedown": takedown,
            "shown": shown,
            "others": other_standing_takedowns(takedown),
        },
        notice_id=takedown.notice_id,
        film_id=takedown.film_id,
    )


def _counter(counter_id: int) -> CounterNotice:
    return CounterNotice.objects.select_related("takedown__film", "takedown__notice").get(
        pk=counter_id
    )


def counter_notice_forward(counter_id: int) -> None:
    """Send the notice's sender a copy of the counter-notice and the restoration date."""
    counter = _counter(counter_id)
    notice = counter.takedown.notice
    _send(
        to=[notice.email],
        subject=f"Counter-notice to your DMCA notice {notice.reference}",
        template="counter_notice_forward",
        context={"counter": counter, "notice": notice},
        notice_id=notice.pk,
        film_id=counter.takedown.film_id,
    )


def counter_notice_confirmation(counter_id: int) -> None:
    counter = _counter(counter_id)
    _send(
        to=[counter.email],
        subject=f"Affea received your counter-notice {counter.reference}",
        template="counter_notice_confirmation",
        context={"counter": counter, "others": other_standing_takedowns(counter.takedown)},
        notice_id=counter.takedown.notice_id,
        film_id=counter.takedown.film_id,
    )


MAILS: dict[str, Callable[[int], None]] = {
    "notice_confirmation": notice_confirmation,
    "notice_staff": notice_staff,
    "notice_incomplete": notice_incomplete,
    "notice_rejected": notice_rejected,
    "takedown_rights_holder": takedown_rights_holder,
    "restored_rights_holder": restored_rights_holder,
    "counter_notice_forward": counter_notice_forward,
    "counter_notice_confirmation": counter_notice_confirmation,
}
