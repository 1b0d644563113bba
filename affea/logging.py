"""Log records an operator can search: a request id, the job and pipeline step, no secrets.

`LOG_FORMAT=json` (the production default) writes one JSON object per line. The request id
comes in as `X-Request-ID` (or is made here), goes out on the response, is stored in the
meta of every job the request enqueues (affea.jobs) and is put back on the job's lines.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from rq import get_current_job

_request_id: ContextVar[str | None] = ContextVar("affea_request_id", default=None)

# One-time tokens of mailed links (confirmation, password reset, e-mail change).
_ACCOUNT_LINK = re.compile(r"(/accounts/(?:confirm|password/reset|email/confirm)/)[^\s'\"]*")
# Django's request loggers attach the request object; its repr carries the full path.
_DROPPED_ATTRS = ("request",)


def current_request_id() -> str | None:
    """The id of the request being served, or of the request that enqueued the running job."""
    request_id = _request_id.get()
    if request_id is None:
        job = get_current_job()
        if job is not None:
            meta_id = job.meta.get("request_id")
            request_id = meta_id if isinstance(meta_id, str) else None
    return request_id


def bind_request_id(request_id: str | None) -> None:
    """Make `request_id` current in this thread until the next bind (or None)."""
    _request_id.set(request_id)


# Signed playlist and subtitle URLs carry their credential in the query string.
_TOKEN_PARAM = re.compile(r"([?&](?:token|signature|Signature|X-Amz-Signature)=)[^&\s'\"]*")


def redact(text: str) -> str:
    return _TOKEN_PARAM.sub(r"\1[redacted]", _ACCOUNT_LINK.sub(r"\1[redacted]", text))


class ContextFilter(logging.Filter):
    """Put the request id, job id and the pipeline's film id and step on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
        job = get_current_job()
        if job is not None:
            record.job_id = job.id
            for name in ("film_id", "step"):
                if name in job.meta:
                    setattr(record, name, job.meta[name])
        return True


class RedactFilter(logging.Filter):
    """Cut the tokens of mailed account links out of a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JSONFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message and the context fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, *_DROPPED_ATTRS])
        super().__init__(*args, **kwargs)

    def formatException(self, ei: Any) -> str:
        formatted = super().formatException(ei)
        return redact(formatted if isinstance(formatted, str) else "\n".join(formatted))


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting: console output, plain or JSON, with the context and redaction."""
    formatters: dict[str, Any] = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": JSONFormatter,
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter},
            "redact": {"()": RedactFilter},
        },
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "botocore": {"level": "WARNING"},
            "s3transfer": {"level": "WARNING"},
        },
    }
