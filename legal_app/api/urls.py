"""Legal API (API.md): DMCA notices, counter-notices, terms and privacy."""

from django.urls import URLPattern, URLResolver

app_name = "legal_api"

urlpatterns: list[URLPattern | URLResolver] = []
