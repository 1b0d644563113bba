"""RQ job of the licence windows, run every minute by RQ's cron scheduler (affea/cron.py)."""

from __future__ import annotations

import logging

from legal_app.licences.services import licences_sync

logger = logging.getLogger(__name__)


def sync_licences() -> None:
    """Publish and unpublish the films whose licence window started or ended."""
    result = licences_sync()
    if result.started or result.ended:
        logger.info("licence windows: started %s, ended %s", result.started, result.ended)
