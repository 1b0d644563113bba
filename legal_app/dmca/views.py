"""The public DMCA pages: the notice form, the counter-notice form, the transparency report."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe
from rest_framework.exceptions import Throttled

from affea.errors import DomainError
from legal_app.dmca import business_days
from legal_app.dmca.counter import counter_notice_submit
from legal_app.dmca.forms import CounterNoticeForm, HoneypotMixin, NoticeForm
from legal_app.dmca.reports import transparency_quarters
from legal_app.dmca.selectors import other_standing_takedowns
from legal_app.dmca.services import notice_submit
from users_app.throttling import AccountThrottle


def _agent() -> dict[str, str]:
    return {
        "name": settings.DMCA_AGENT_NAME,
        "address": settings.DMCA_AGENT_ADDRESS,
        "email": settings.DMCA_AGENT_EMAIL,
        "phone": settings.DMCA_AGENT_PHONE,
    }


def _throttled(request: HttpRequest, scope: str, form: HoneypotMixin) -> int | None:
    """Count the attempt; the seconds to wait when the client IP has used up its window."""
    try:
        AccountThrottle(scope, request, None).check_and_hit()
    except Throttled as exc:
        wait = math.ceil(getattr(exc, "wait", None) or 1)
        form.add_error(None, f"Too many submissions. Try again in {wait} seconds.")
        return wait
    return None


def _page(
    request: HttpRequest, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    context = {
        **context,
        "agent": _agent(),
        "dmca_tz": settings.DMCA_TIME_ZONE,
        "restoration_days": (business_days.EARLIEST_DAY, business_days.LATEST_DAY),
    }
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def dmca_notice(request: HttpRequest) -> HttpResponse:
    form = NoticeForm(request.POST or None)
    if request.method == "POST":
        wait = _throttled(request, "dmca_notice", form)
        if wait is not None:
            response = _page(request, "legal_app/dmca.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            if form.is_bot():
                return _page(request, "legal_app/dmca_done.html", {"reference": None})
            notice = notice_submit(submission=form.submission())
            return _page(request, "legal_app/dmca_done.html", {"reference": notice.reference})
        return _page(request, "legal_app/dmca.html", {"form": form}, status=400)
    return _page(request, "legal_app/dmca.html", {"form": form})


@require_http_methods(["GET", "POST"])
def counter_notice(request: HttpRequest) -> HttpResponse:
    initial = {"takedown": request.GET.get("takedown", "")[:32]}
    form = CounterNoticeForm(request.POST or None, initial=initial)
    template = "legal_app/counter_notice.html"
    if request.method == "POST":
        wait = _throttled(request, "counter_notice", form)
        if wait is not None:
            response = _page(request, template, {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if not form.is_valid():
            return _page(request, template, {"form": form}, status=400)
        if form.is_bot():
            return _page(request, "legal_app/counter_notice_done.html", {"counter": None})
        try:
            counter = counter_notice_submit(submission=form.submission())
        except DomainError as error:
            form.add_error("takedown", error.message)
            return _page(request, template, {"form": form}, status=error.status)
        others = other_standing_takedowns(counter.takedown)
        return _page(
            request, "legal_app/counter_notice_done.html", {"counter": counter, "others": others}
        )
    return _page(request, template, {"form": form})


@require_safe
def transparency(request: HttpRequest) -> HttpResponse:
    return _page(request, "legal_app/transparency.html", {"quarters": transparency_quarters()})
