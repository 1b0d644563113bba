"""gunicorn settings, read automatically from the working directory (web role)."""

import multiprocessing
import os

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
errorlog = "-"
# Recycle workers now and then so a slow leak can never take the web tier down.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
