"""Reports on the DMCA procedure: the public transparency counts and a notice's history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncQuarter

from legal_app.models import CounterNotice, Notice, NoticeState, Takedown
from legal_app.record import events_for

COLUMNS = ("received", "accepted", "rejected", "counter_notices", "restorations")


@dataclass
class Quarter:
    year: int
    quarter: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.quarter}"


Counted = QuerySet[Notice] | QuerySet[CounterNotice] | QuerySet[Takedown]


def _per_quarter(rows: Counted, at: str) -> dict[datetime, int]:
    counted = rows.annotate(q=TruncQuarter(at)).values("q").annotate(n=Count("pk")).order_by()
    return {row["q"]: row["n"] for row in counted}


def transparency_quarters() -> list[Quarter]:
    """Counts per calendar quarter (UTC), newest first; counts only, nothing about anyone."""
    series = {
        "received": _per_quarter(Notice.objects.all(), "received_at"),
        "accepted": _per_quarter(Notice.objects.filter(state=NoticeState.ACCEPTED), "decided_at"),
        "rejected": _per_quarter(Notice.objects.filter(state=NoticeState.REJECTED), "decided_at"),
        "counter_notices": _per_quarter(CounterNotice.objects.all(), "received_at"),
        "restorations": _per_quarter(
            Takedown.objects.filter(restored_at__isnull=False), "restored_at"
        ),
    }
    quarters: dict[datetime, Quarter] = {}
    for column, counts in series.items():
        for start, count in counts.items():
            row = quarters.setdefault(start, Quarter(start.year, (start.month - 1) // 3 + 1))
            row.counts[column] = count
    return [quarters[start] for start in sorted(quarters, reverse=True)]


def notice_history(notice: Notice) -> list[dict[str, object]]:
    """Every legal event about the notice (its takedowns, mails, counter-notices), oldest first."""
    return [
        {
            "at": event.at,
            "kind": event.kind,
            "summary": event.summary,
            "actor": event.actor_label,
            "film_id": event.film_id,
            "notice_id": event.notice_id,
            "details": event.details,
        }
        for event in events_for(notice_id=notice.pk)
    ]


def notice_history_json(notices: QuerySet[Notice]) -> str:
    payload = {notice.reference: notice_history(notice) for notice in notices.order_by("pk")}
    return json.dumps(payload, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
