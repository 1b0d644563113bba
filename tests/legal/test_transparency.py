"""The public transparency page: counts per quarter, and nothing that identifies anyone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from freezegun import freeze_time

from legal_app.dmca import services
from tests.content.factories import make_film, make_user
from tests.legal.dmca_support import counter_submit, notice_accept_naming, notice_submit_naming

pytestmark = pytest.mark.django_db


def _row(page: str, label: str) -> list[str]:
    start = page.index(f'<th scope="row">{label}</th>')
    row = page[start : page.index("</tr>", start)]
    return [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]


def test_counts_per_quarter_without_personal_data() -> None:
    staff = make_user(staff=True)
    with freeze_time(datetime(2026, 2, 10, tzinfo=UTC)):
        [takedown] = notice_accept_naming(make_film(), staff=staff)
        rejected = notice_submit_naming(make_film())
        services.notice_review_start(notice=rejected, by=staff)
        services.notice_reject(notice=rejected, by=staff, reason="Not a copyright claim.")
        notice_submit_naming(make_film())
    with freeze_time(datetime(2026, 4, 2, tzinfo=UTC)):
        counter_submit(takedown)
        services.takedown_restore(takedown=takedown, by=staff, reason="Withdrawn.")

    page = Client().get("/legal/transparency/").content.decode()

    # received, accepted, rejected, counter-notices, restorations
    assert _row(page, "2026 Q1") == ["3", "1", "1", "0", "0"]
    assert _row(page, "2026 Q2") == ["0", "0", "0", "1", "1"]
    for personal in ("Jo Claimant", "jo@claimant.example", "Sam Maker", "555", "Albany"):
        assert personal not in page


def test_the_page_says_so_when_nothing_was_received() -> None:
    page = Client().get("/legal/transparency/").content.decode()

    assert "No notices have been received yet." in page
