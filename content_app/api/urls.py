from django.urls import path, re_path

from content_app.api import views

app_name = "content_api"

urlpatterns = [
    path("", views.FilmListView.as_view(), name="film-list"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("add-favorite/", views.FavoriteToggleView.as_view(), name="favorite-toggle"),
    path("favorites/", views.FavoriteListView.as_view(), name="favorite-list"),
    path("continue-watching/", views.ContinueWatchingView.as_view(), name="continue-watching"),
    path("video-url/<int:pk>/", views.VideoURLView.as_view(), name="video-url"),
    path("<int:pk>/", views.FilmDetailView.as_view(), name="film-detail"),
    path("<int:pk>/progress/", views.ProgressView.as_view(), name="progress"),
    path("<int:pk>/hls/master.m3u8", views.HLSMasterView.as_view(), name="hls-master"),
    re_path(
        r"^(?P<pk>[0-9]{1,18})/hls/(?P<quality>[0-9]{1,5}p)\.m3u8$",
        views.HLSVariantView.as_view(),
        name="hls-variant",
    ),
]
