"""Affea's URL map: admin, API, health and the server-rendered pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from affea.health import health
from affea.metrics import metrics_view
from content_app.sitemaps import robots_txt, sitemap, sitemap_section

urlpatterns = [
    path("health/", health, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemap_section, name="sitemap-section"),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("admin/", admin.site.urls),
    path("api/content/", include("content_app.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/users/", include("users_app.api.urls")),
    path("api/legal/", include("legal_app.api.urls")),
    path("legal/", include("legal_app.urls")),
    path("accounts/", include("users_app.urls")),
    path("", include("content_app.urls")),
]
