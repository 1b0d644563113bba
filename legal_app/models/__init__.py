"""Models of the legal app, one module per concern."""

from legal_app.models.dmca import CounterNotice, Notice, NoticeState, Takedown
from legal_app.models.licences import LicenceEdge, LicenceEdgeKind
from legal_app.models.record import LegalEvent, LegalEventKind
from legal_app.models.terms import LegalDocument, LegalDocumentKind, TermsAcceptance

__all__ = [
    "CounterNotice",
    "LegalDocument",
    "LegalDocumentKind",
    "LegalEvent",
    "LegalEventKind",
    "LicenceEdge",
    "LicenceEdgeKind",
    "Notice",
    "NoticeState",
    "Takedown",
    "TermsAcceptance",
]
