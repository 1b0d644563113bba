"""gunicorn settings, read automatically from the working directory (web role)."""

import multiprocessing
import os
import re
from typing import Any

from gunicorn.glogging import Logger

_ACCOUNT_LINK = re.compile(r"(/accounts/(?:confirm|password/reset|email/confirm)/)\S*")
# HLS playlist links (variants under /hls/, subtitle playlists) carry a token in the query.
_HLS_QUERY = re.compile(r"(/hls/[^?\s]*)\?\S*")
_TOKEN_PARAM = re.compile(r"([?&]token=)[^&\s]*")


def redact(line: str) -> str:
    """Drop the credentials that request lines carry: mailed-link tokens, playlist tokens."""
    line = _ACCOUNT_LINK.sub(r"\1[redacted]", line)
    return _TOKEN_PARAM.sub(r"\1[redacted]", _HLS_QUERY.sub(r"\1?[redacted]", line))


class RedactingLogger(Logger):
    """Keep the one-time tokens of mailed account links and HLS tokens out of the access log."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = str(atoms.get("U", ""))
        for name in ("r", "U"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        query = atoms.get("q")
        if isinstance(query, str) and query:
            atoms["q"] = "[redacted]" if "/hls/" in path else redact(f"?{query}")[1:]
        return atoms


bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
# Threaded workers keep heartbeating while a thread streams a multi-gigabyte upload,
# so a long admin upload is never killed as a "hung" worker.
worker_class = "gthread"
# Workers, threads and max_requests were chosen by measurement (issue 15): wrk through
# bench/_load.py, 50 keep-alive connections, 8 s windows, medians of 3 rounds per setting (a
# range: the medians of two separate runs), against gunicorn with this file and bench/api.py's
# settings and 100-film catalogue, on a 2-CPU machine shared with other jobs (load average
# 7-10 throughout), PostgreSQL and Redis local. The machine is noisy: single windows of one
# setting gave p95 540-3100 ms, so only differences larger than that spread count.
#   workers x threads, max_requests | video-url req/s, p95 ms | list page 1 req/s, p95 ms
#   4 x 4, 0 (off)                  | 176-192, 681-736       | 665-740, 176-238
#   4 x 4, 2000 (the old setting)   | 144, 1245              | 423, 325   (1-3 restarts/window)
#   4 x 4, 50000                    | 175, 801               | 631, 283   (no restart)
#   4 x 8, 0                        | 200-221, 524-674       | 643-648, 175-204
#   2 x 4, 0                        | 180, 698               | 800, 197
#   2 x 8, 0                        | 186, 798               | 588, 235
#   3 x 4, 0                        | 142, 761               | 567, 288
# More threads or fewer workers were within the noise of 4 x 4; 4 x 4 stays (2 per CPU, at
# most 4), as it holds half the database connections of 4 x 8.


def _whole_number(name: str, default: int) -> int:
    """Read a count from the environment; an empty value (`WEB_THREADS=` in an env file)
    is the default, a malformed one stops start-up with a message naming it. (gunicorn
    reads WEB_CONCURRENCY itself too, before this file: entrypoint.sh drops an empty one.)"""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


workers = _whole_number("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2))
threads = _whole_number("WEB_THREADS", 4)
timeout = _whole_number("WEB_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
logger_class = RedactingLogger
errorlog = "-"
# Recycle workers now and then so a slow leak can never take the web tier down, but rarely:
# at 2000 every worker rebooted Django every few seconds under load (the table above). At
# 50000 a worker serving 200 req/s lives about four minutes; the jitter keeps the workers
# from restarting together.
max_requests = 50_000
max_requests_jitter = 5_000
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (for `gunicornc`) defaults to one path per user account, so a
# second instance (a benchmark, `make run` beside compose) takes it over and deletes it on
# exit. Off, unless WEB_CONTROL_SOCKET names a path that belongs to this instance alone.
control_socket_disable = not os.environ.get("WEB_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["WEB_CONTROL_SOCKET"]
