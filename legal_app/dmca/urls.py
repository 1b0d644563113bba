"""Routes of the DMCA pages and API, included by legal_app.urls and legal_app.api.urls."""

from django.urls import URLPattern, path

from legal_app.dmca import api, views

page_patterns: list[URLPattern] = [
    path("dmca/", views.dmca_notice, name="dmca"),
    path("counter-notice/", views.counter_notice, name="counter_notice"),
    path("transparency/", views.transparency, name="transparency"),
]

api_patterns: list[URLPattern] = [
    path("dmca/", api.NoticeView.as_view(), name="dmca"),
    path("counter-notice/", api.CounterNoticeView.as_view(), name="counter_notice"),
]
