"""gunicorn settings, read automatically from the working directory (web role)."""

import multiprocessing
import os
import re
from typing import Any

from gunicorn.glogging import Logger

_ACCOUNT_LINK = re.compile(r"(/accounts/(?:confirm|password/reset|email/confirm)/)\S*")


class RedactingLogger(Logger):
    """Keep the one-time tokens of mailed account links out of the access log."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U"):
            if isinstance(atoms.get(name), str):
                atoms[name] = _ACCOUNT_LINK.sub(r"\1[redacted]", atoms[name])
        return atoms


bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
# Threaded workers keep heartbeating while a thread streams a multi-gigabyte upload,
# so a long admin upload is never killed as a "hung" worker.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("WEB_THREADS", 4))
timeout = int(os.environ.get("WEB_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
logger_class = RedactingLogger
errorlog = "-"
# Recycle workers now and then so a slow leak can never take the web tier down.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
