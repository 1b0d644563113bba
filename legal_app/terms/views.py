"""Pages: the current terms and privacy policy, and the page that asks to accept new terms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from legal_app.models import LegalDocumentKind
from legal_app.terms import services
from legal_app.terms.middleware import remember_accepted
from legal_app.terms.selectors import document_current, terms_accepted
from users_app.models import User


def _document_page(request: HttpRequest, kind: LegalDocumentKind, template: str) -> HttpResponse:
    document = document_current(kind=kind)
    status = 200 if document is not None else 404
    return render(request, template, {"document": document, "kind": kind}, status=status)


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    return _document_page(request, LegalDocumentKind.TERMS, "legal_app/terms.html")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return _document_page(request, LegalDocumentKind.PRIVACY, "legal_app/privacy.html")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    """Ask the signed-in viewer to accept the current terms, then send them where they were."""
    user = request.user
    assert isinstance(user, User)  # login_required
    next_url = _next_url(request)
    document = document_current(kind=LegalDocumentKind.TERMS)
    if document is None or (request.method == "GET" and terms_accepted(user=user)):
        return HttpResponseRedirect(next_url)
    error = ""
    if request.method == "POST":
        if not request.POST.get("accept"):
            error = "Tick the box to accept the terms, or log out."
        else:
            try:
                services.terms_accept(
                    user=user,
                    version=request.POST.get("version", ""),
                    ip=services.request_ip(request),
                )
            except services.NotCurrentVersion as exc:
                # Published while the page was open: show the newer text.
                error = exc.message
                document = document_current(kind=LegalDocumentKind.TERMS) or document
            else:
                remember_accepted(request, document.pk)
                messages.success(request, "Thank you: you have accepted the current terms.")
                return HttpResponseRedirect(next_url)
    context = {"document": document, "next": next_url, "error": error}
    return render(request, "legal_app/accept_terms.html", context, status=400 if error else 200)
