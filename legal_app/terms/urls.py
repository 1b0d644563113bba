"""URL patterns of the terms pages and API, included by legal_app's url modules."""

from django.urls import path

from legal_app.terms import api, views

page_patterns = [
    path("terms/", views.terms, name="terms"),
    path("terms/accept/", views.accept, name="terms_accept"),
    path("privacy/", views.privacy, name="privacy"),
]

api_patterns = [
    path("terms/", api.TermsView.as_view(), name="terms"),
    path("terms/accept/", api.TermsAcceptView.as_view(), name="terms_accept"),
    path("privacy/", api.PrivacyView.as_view(), name="privacy"),
]
