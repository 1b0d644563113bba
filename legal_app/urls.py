"""Legal pages: the DMCA and counter-notice forms, terms, privacy, transparency."""

from django.urls import URLPattern, URLResolver

from legal_app.dmca import urls as dmca_urls
from legal_app.terms import urls as terms_urls

app_name = "legal"

urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns += terms_urls.page_patterns
urlpatterns += dmca_urls.page_patterns
