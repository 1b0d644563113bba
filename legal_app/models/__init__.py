"""Models of the legal app, one module per concern."""

from legal_app.models.record import LegalEvent, LegalEventKind

__all__ = ["LegalEvent", "LegalEventKind"]
