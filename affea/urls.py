"""Affea's URL map: admin, API, health and the server-rendered pages."""

from django.contrib import admin
from django.urls import path

from affea.health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
]
