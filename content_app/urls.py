from django.urls import path

from content_app import views
from content_app.local_media import local_media

app_name = "content"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("films/<slug:slug>/", views.film_detail, name="film-detail"),
    path("films/<slug:slug>/favorite/", views.favorite_toggle, name="favorite-toggle"),
    path("favorites/", views.favorites, name="favorites"),
    path("continue-watching/", views.continue_watching, name="continue-watching"),
    path("media/signed/<str:token>", local_media, name="local-media"),
]
