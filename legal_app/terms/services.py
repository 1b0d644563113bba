"""Every write about terms and privacy versions: publishing them and recording acceptance."""

from __future__ import annotations

import ipaddress

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from affea.errors import DomainError
from legal_app.models import LegalDocument, LegalDocumentKind, LegalEventKind, TermsAcceptance
from legal_app.record import event_record
from legal_app.terms.selectors import document_current, terms_current_forget
from users_app.models import User
from users_app.throttling import client_ip


class NotCurrentVersion(DomainError):
    default_message = "This is not the current version of the terms; accept the current one."


def request_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the throttles see it (TRUSTED_PROXY_COUNT), if it is one."""
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


@transaction.atomic
def document_publish(*, document: LegalDocument, by: User | None) -> bool:
    """Publish a draft version; return False if it already was (it stays as it was)."""
    now = timezone.now()
    changed = LegalDocument.objects.filter(pk=document.pk, published_at__isnull=True).update(
        published_at=now
    )
    document.refresh_from_db(fields=["published_at"])
    if changed:
        terms_current_forget()
        event_record(
            kind=LegalEventKind.TERMS_PUBLISHED,
            summary=f"{document} published",
            actor=by,
            details={
                "document_id": document.pk,
                "kind": document.kind,
                "version": document.version,
            },
        )
    return bool(changed)


def _accept(*, user: User, document: LegalDocument, ip: str | None) -> bool:
    try:
        with transaction.atomic():
            TermsAcceptance.objects.create(user=user, document=document, ip=ip)
    except IntegrityError:  # accepted already (perhaps by a concurrent request)
        return False
    # The IP address stays on the acceptance row, which goes with the account; the
    # append-only record, which outlives it, names the account by its number only (no
    # email: nothing personal may stay behind once the account is deleted).
    event_record(
        kind=LegalEventKind.TERMS_ACCEPTED,
        summary=f"Account {user.pk} accepted {document}",
        actor=user,
        actor_label=f"account {user.pk}",
        details={"document_id": document.pk, "version": document.version},
    )
    return True


@transaction.atomic
def terms_accept(*, user: User, version: str, ip: str | None) -> bool:
    """Record that `user` accepts `version`, which must be the current one; False if already."""
    current = document_current(kind=LegalDocumentKind.TERMS)
    if current is None or current.version != version:
        raise NotCurrentVersion()
    return _accept(user=user, document=current, ip=ip)


def terms_accept_current(*, user: User, ip: str | None) -> bool:
    """Record acceptance of the current terms, if any are published (registration)."""
    current = document_current(kind=LegalDocumentKind.TERMS)
    if current is None:
        return False
    return _accept(user=user, document=current, ip=ip)
