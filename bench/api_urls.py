"""Affea's URLs plus `/bench/bare/`, the baseline: a Django view returning a small JsonResponse."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from affea.urls import urlpatterns as affea_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/bare/", bare), *affea_urlpatterns]
