"""Which licence-window edges the scheduled job has carried out, one row per film and edge."""

from __future__ import annotations

from django.db import models


class LicenceEdgeKind(models.TextChoices):
    START = "start", "Licence started"
    END = "end", "Licence ended"


class LicenceEdge(models.Model):
    """The job published (start) or unpublished (end) `film` for the window edge at `at`.

    The unique row makes the job idempotent, even when two runs overlap: an edge is
    carried out once, and a staff decision taken after it (unpublishing a film inside
    its window) is never undone by a later run. A changed window has new edges.
    """

    film = models.ForeignKey(
        "content_app.Film", on_delete=models.CASCADE, related_name="licence_edges"
    )
    kind = models.CharField(max_length=8, choices=LicenceEdgeKind.choices)
    at = models.DateTimeField()
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("film", "at")
        constraints = [
            models.UniqueConstraint(fields=("film", "kind", "at"), name="licence_edge_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=LicenceEdgeKind.values), name="licence_edge_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for film {self.film_id} at {self.at:%Y-%m-%d %H:%M}"
