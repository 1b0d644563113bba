"""Legal pages: the DMCA and counter-notice forms, terms, privacy, transparency."""

from django.urls import URLPattern, URLResolver

app_name = "legal"

urlpatterns: list[URLPattern | URLResolver] = []
