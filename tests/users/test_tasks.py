"""Mail jobs: text and HTML parts, links from SITE_URL, nothing sent when no longer due."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.users.conftest import MakeUser
from users_app import tasks
from users_app.models import User

pytestmark = pytest.mark.django_db


def test_confirmation_mail_has_text_and_html_parts_with_a_site_link(
    make_user: MakeUser, settings: object
) -> None:
    settings.SITE_URL = "https://affea.example"  # type: ignore[attr-defined]
    user = make_user("new@example.com", active=False)
    tasks.send_confirmation_mail(user.pk)
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    assert "https://affea.example/accounts/confirm/" in message.body
    html, mimetype = message.alternatives[0]  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert 'href="https://affea.example/accounts/confirm/' in html
    assert "3 days" in message.body


def test_confirmation_mail_is_not_sent_once_the_account_is_confirmed(user: User) -> None:
    tasks.send_confirmation_mail(user.pk)
    assert mail.outbox == []


def test_reset_mail_links_to_the_reset_page(user: User, settings: object) -> None:
    settings.SITE_URL = "https://affea.example"  # type: ignore[attr-defined]
    tasks.send_password_reset_mail("viewer@example.com")
    message = mail.outbox[0]
    assert "https://affea.example/accounts/password/reset/" in message.body
    assert message.alternatives  # type: ignore[attr-defined]


def test_reset_mail_job_sends_nothing_for_an_unknown_address(db: None) -> None:
    tasks.send_password_reset_mail("nobody@example.com")
    assert mail.outbox == []


def test_email_change_mail_goes_to_the_new_address(user: User) -> None:
    tasks.send_email_change_mail(user.pk, "fresh@example.com")
    assert mail.outbox[0].to == ["fresh@example.com"]
    assert "/accounts/email/confirm/" in mail.outbox[0].body


def test_mail_jobs_for_a_deleted_account_send_nothing(user: User) -> None:
    user_id = user.pk
    user.delete()
    tasks.send_confirmation_mail(user_id)
    tasks.send_email_change_mail(user_id, "fresh@example.com")
    assert mail.outbox == []
