"""Error reports to Sentry: web and workers, only when SENTRY_DSN is set, no personal data."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.rq import RqIntegration


def init_sentry(*, dsn: str, environment: str) -> None:
    """Start reporting unhandled exceptions and failed jobs; without a DSN, nothing is sent."""
    if not dsn:
        return
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), RqIntegration()],
        # Personal data off: no user ids, cookies, headers (tokens), bodies, query strings
        # (mailed links), query parameters (session keys, tokens) or frame variables.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        traces_sample_rate=0.0,  # errors only: the metrics answer the latency questions
    )
