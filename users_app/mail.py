"""Compose and send the account mails (text and HTML parts, links built from SITE_URL).

Called only from RQ jobs (users_app.tasks): tokens are made here, inside the worker, so
they never travel through job arguments, which RQ writes to its log.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from users_app.clients import spa_link, spa_route
from users_app.models import User
from users_app.tokens import TokenPurpose, text_encode, token_make, uid_encode

logger = logging.getLogger(__name__)


def _send(*, to: str, subject: str, template: str, context: dict[str, object]) -> None:
    context = {**context, "site_url": settings.SITE_URL, "days": settings.ACCOUNT_CONFIRMATION_DAYS}
    text = render_to_string(f"users_app/email/{template}.txt", context)
    html = render_to_string(f"users_app/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("sent %s mail to user mail address", template)


def confirmation_mail_send(*, user: User, client: str = "") -> None:
    """Mail the confirmation link: to the SPA's confirm route, or Affea's page (then its login)."""
    uid, token = uid_encode(user), token_make(user=user, purpose=TokenPurpose.CONFIRM)
    link = spa_link(client, "confirm", uid=uid, token=token)
    if link is None:
        path = reverse("users:confirm", kwargs={"uid": uid, "token": token})
        after = f"?{urlencode({'client': client})}" if spa_route(client, "login") else ""
        link = f"{settings.SITE_URL}{path}{after}"
    _send(
        to=user.email,
        subject="Confirm your Affea account",
        template="confirm",
        context={"user": user, "link": link},
    )


def password_reset_mail_send(*, user: User, client: str = "") -> None:
    """Mail the reset link: to the SPA's reset-password route, or Affea's own page."""
    uid, token = uid_encode(user), token_make(user=user, purpose=TokenPurpose.RESET)
    link = spa_link(client, "reset_password", uid=uid, token=token)
    if link is None:
        path = reverse("users:reset_password", kwargs={"uid": uid, "token": token})
        link = f"{settings.SITE_URL}{path}"
    _send(
        to=user.email,
        subject="Reset your Affea password",
        template="reset",
        context={"user": user, "link": link},
    )


def email_change_mail_send(*, user: User, new_email: str) -> None:
    token = token_make(user=user, purpose=TokenPurpose.EMAIL_CHANGE, extra=new_email)
    path = reverse(
        "users:email_change_confirm",
        kwargs={"uid": uid_encode(user), "email": text_encode(new_email), "token": token},
    )
    _send(
        to=new_email,
        subject="Confirm your new Affea email address",
        template="email_change",
        context={"user": user, "new_email": new_email, "link": f"{settings.SITE_URL}{path}"},
    )
