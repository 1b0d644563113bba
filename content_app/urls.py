from django.urls import path

from content_app import embed, subtitles, views
from content_app.local_media import local_media

app_name = "content"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("films/<slug:slug>/", views.film_detail, name="film-detail"),
    path("films/<slug:slug>/poster", views.film_poster, name="film-poster"),
    path("films/<slug:slug>/favorite/", views.favorite_toggle, name="favorite-toggle"),
    path(
        "films/<int:pk>/subtitles/<str:language>.m3u8",
        subtitles.subtitle_playlist,
        name="subtitle-playlist",
    ),
    path("embed/<slug:slug>/", embed.embed, name="embed"),
    path("oembed", embed.oembed, name="oembed"),
    path("watchlist/", views.watchlist, name="watchlist"),
    # The watchlist's first address, kept for links people saved.
    path("favorites/", views.watchlist, name="favorites"),
    path("continue-watching/", views.continue_watching, name="continue-watching"),
    path("media/signed/<str:token>", local_media, name="local-media"),
]
