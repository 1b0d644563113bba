"""Legal API (API.md): DMCA notices, counter-notices, terms and privacy."""

from django.urls import URLPattern, URLResolver

from legal_app.dmca import urls as dmca_urls
from legal_app.terms import urls as terms_urls

app_name = "legal_api"

urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns += terms_urls.api_patterns
urlpatterns += dmca_urls.api_patterns
