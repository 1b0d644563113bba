"""RQ jobs that send account mail. Each reloads the account and sends nothing when the
mail no longer makes sense (confirmed meanwhile, deleted, address taken)."""

from __future__ import annotations

from users_app import mail
from users_app.models import User
from users_app.selectors import user_by_email


def send_confirmation_mail(user_id: int, client: str = "") -> None:
    user = User.objects.filter(pk=user_id, email_confirmed_at__isnull=True).first()
    if user is not None and not user.is_active:
        mail.confirmation_mail_send(user=user, client=client)


def send_password_reset_mail(email: str, client: str = "") -> None:
    """Mail a reset link to an active account or to a sign-up never confirmed.

    Not a confirmation link for the latter: someone else may have signed up with this
    address and chosen the password; the owner's reset replaces it and confirms the address.

    The request that enqueued this answered the same whether or not the account exists;
    the lookup happens here so the request's timing does not tell either.
    """
    user = user_by_email(email=email)
    if user is None:
        return
    if (user.is_active and user.has_usable_password()) or user.email_confirmed_at is None:
        mail.password_reset_mail_send(user=user, client=client)


def send_email_change_mail(user_id: int, new_email: str) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.email == new_email or user_by_email(email=new_email) is not None:
        return
    mail.email_change_mail_send(user=user, new_email=new_email)
