"""Terms and privacy versions: frozen once published, sanitised, accepted on sign-up and pages."""

from __future__ import annotations

import pytest
from django.test import Client

from legal_app.models import (
    LegalDocument,
    LegalDocumentKind,
    LegalEvent,
    LegalEventKind,
    TermsAcceptance,
)
from legal_app.models.terms import PublishedDocumentChange
from legal_app.terms.markdown import markdown_render
from legal_app.terms.services import document_publish
from tests.legal.terms_factories import PASSWORD, published, viewer
from users_app.models import User
from users_app.services import user_delete

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_without_scripts_handlers_or_javascript_links() -> None:
    html = markdown_render(
        "# Terms\n\n<script>alert(1)</script>\n\n"
        '[bad](javascript:alert(1)) <a href="javascript:alert(2)" onclick="x()">worse</a> '
        "[good](https://affea.example/help) <img src=https://tracker.example/p.gif>"
    )

    assert "<h1>Terms</h1>" in html
    assert "<script" not in html
    assert "alert(1)</" not in html
    # markdown-it leaves a javascript: link as plain text; nh3 drops such an href.
    assert 'href="javascript:' not in html
    assert "onclick" not in html
    assert "<a>bad</a>" not in html
    assert '<a rel="noopener noreferrer">worse</a>' in html
    assert '<a href="https://affea.example/help" rel="noopener noreferrer">good</a>' in html
    assert "<img" not in html


def test_published_version_refuses_edits_and_deletion() -> None:
    document = published(body="First text.")
    stale = LegalDocument.objects.get(pk=document.pk)

    stale.body = "Changed afterwards."
    with pytest.raises(PublishedDocumentChange):
        stale.save()
    with pytest.raises(PublishedDocumentChange):
        stale.delete()
    assert LegalDocument.objects.get(pk=document.pk).body == "First text."


def test_publishing_is_recorded_once() -> None:
    document = LegalDocument.objects.create(kind=LegalDocumentKind.TERMS, version="1", body="x")

    assert document_publish(document=document, by=None)
    assert not document_publish(document=document, by=None)
    events = LegalEvent.objects.filter(kind=LegalEventKind.TERMS_PUBLISHED)
    assert [event.details["version"] for event in events] == ["1"]


def test_admin_shows_a_published_version_read_only(admin_client: Client) -> None:
    document = published(body="Frozen.")
    url = f"/admin/legal_app/legaldocument/{document.pk}/change/"

    page = admin_client.get(url)
    admin_client.post(url, {"kind": "terms", "version": "1", "body": "Edited."})

    assert page.status_code == 200
    assert b'name="body"' not in page.content
    assert LegalDocument.objects.get(pk=document.pk).body == "Frozen."


def test_admin_publish_action_publishes_a_draft(admin_client: Client) -> None:
    draft = LegalDocument.objects.create(kind=LegalDocumentKind.PRIVACY, version="2", body="P")

    admin_client.post(
        "/admin/legal_app/legaldocument/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )

    assert LegalDocument.objects.get(pk=draft.pk).published_at is not None


def test_terms_and_privacy_pages_show_the_current_version(client: Client) -> None:
    published("1", "Old terms.")
    published("2", "New **terms**.")
    published("p1", "We keep little.", kind=LegalDocumentKind.PRIVACY)

    terms = client.get("/legal/terms/")
    privacy = client.get("/legal/privacy/")

    assert b"<strong>terms</strong>" in terms.content
    assert b"Old terms" not in terms.content
    assert b"Version 2" in terms.content
    assert b"We keep little." in privacy.content


def test_terms_page_without_a_published_version_is_404(client: Client) -> None:
    LegalDocument.objects.create(kind=LegalDocumentKind.TERMS, version="draft", body="x")

    response = client.get("/legal/terms/")

    assert response.status_code == 404
    assert b"has not been published yet" in response.content


def test_signup_page_requires_ticking_the_terms_box_linking_to_them(client: Client) -> None:
    published()
    body = {"email": "new@example.com", "password": PASSWORD, "confirm_password": PASSWORD}

    page = client.get("/accounts/signup/")
    refused = client.post("/accounts/signup/", body)

    assert b'name="accept_terms"' in page.content
    assert b'href="/legal/terms/"' in page.content
    assert b"Accept the terms of service" in refused.content
    assert not User.objects.filter(email="new@example.com").exists()


def test_signup_page_records_acceptance_with_the_client_address(client: Client) -> None:
    document = published()
    body = {
        "email": "new@example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "accept_terms": "on",
    }

    client.post("/accounts/signup/", body, REMOTE_ADDR="203.0.113.9")

    acceptance = TermsAcceptance.objects.get(user__email="new@example.com")
    assert (acceptance.document, acceptance.ip) == (document, "203.0.113.9")
    event = LegalEvent.objects.get(kind=LegalEventKind.TERMS_ACCEPTED)
    assert event.actor_id == acceptance.user_id
    assert event.details["version"] == "1"


def test_a_deleted_account_leaves_no_address_in_the_legal_record(client: Client) -> None:
    published()
    body = {"email": "gone@example.com", "password": PASSWORD, "confirm_password": PASSWORD,
            "accept_terms": "on"}  # fmt: skip
    client.post("/accounts/signup/", body, REMOTE_ADDR="203.0.113.9")
    user = User.objects.get(email="gone@example.com")
    number = user.pk

    user_delete(user=user)

    # The record is append-only and outlives the account: it names the account by number.
    [event] = LegalEvent.objects.filter(kind=LegalEventKind.TERMS_ACCEPTED)
    assert (event.summary, event.actor_label) == (
        f"Account {number} accepted Terms of service 1",
        f"account {number}",
    )
    assert not any(
        "gone@example.com" in f"{e.summary} {e.actor_label} {e.details}"
        for e in LegalEvent.objects.all()
    )


def test_signed_in_viewer_is_asked_to_accept_new_terms_and_returned(client: Client) -> None:
    user = viewer()
    TermsAcceptance.objects.create(user=user, document=published("1"))
    client.force_login(user)
    assert client.get("/accounts/").status_code == 200
    published("2", "Second version.")

    asked = client.get("/?q=x")
    assert asked.status_code == 302
    assert asked["Location"] == "/legal/terms/accept/?next=%2F%3Fq%3Dx"
    page = client.get(asked["Location"])
    assert b"Second version." in page.content
    assert b'value="2"' in page.content

    accepted = client.post(
        "/legal/terms/accept/",
        {"version": "2", "accept": "1", "next": "/?q=x"},
        REMOTE_ADDR="198.51.100.4",
    )

    assert accepted.status_code == 302
    assert accepted["Location"] == "/?q=x"
    assert TermsAcceptance.objects.get(user=user, document__version="2").ip == "198.51.100.4"
    assert client.get("/legal/terms/accept/?next=/").status_code == 302  # nothing left to accept


def test_accept_page_refuses_an_unticked_box_and_an_old_version(client: Client) -> None:
    user = viewer()
    published("1")
    published("2")
    client.force_login(user)

    unticked = client.post("/legal/terms/accept/", {"version": "2", "next": "/"})
    stale = client.post("/legal/terms/accept/", {"version": "1", "accept": "1", "next": "/"})

    assert unticked.status_code == 400
    assert stale.status_code == 400
    assert not TermsAcceptance.objects.filter(user=user).exists()


def test_pages_outside_the_viewer_site_are_not_redirected(client: Client) -> None:
    client.force_login(viewer())
    published()

    for path in ("/legal/privacy/", "/accounts/", "/health/"):
        assert client.get(path).status_code != 302, path
    assert client.post("/accounts/logout/").status_code == 302  # logging out still works
