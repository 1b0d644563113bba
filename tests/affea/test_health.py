"""`/health/`: every component reported, a dead or hung one named fast without leaking details.

Also the worker containers' health check (`check_worker`), which must see a dead scheduler.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rq import Queue, Worker
from rq.scheduler import RQScheduler
from rq.utils import now

from affea import health
from affea.localdev import free_port

ROOT = Path(__file__).resolve().parents[2]

# Runs the real view in a fresh process, so a service can be pointed at a dead port
# through the environment exactly as an operator's misconfiguration would.
_PROBE = """
import json, django
django.setup()
from django.test import Client
import time
started = time.monotonic()
response = Client().get("/health/")
seconds = time.monotonic() - started
print(json.dumps({"status": response.status_code, "body": response.content.decode(),
                  "seconds": seconds}))
"""


@contextmanager
def frozen_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a hung service."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def _probe(env: dict[str, str]) -> tuple[int, str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "affea.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer["status"], answer["body"], answer["seconds"]


@pytest.mark.django_db
def test_health_reports_every_component_ok(client: Client) -> None:
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"database": "ok", "redis": "ok", "storage": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("component", "variable", "dead_url"),
    [
        ("database", "DATABASE_URL", "postgres://affea:secret-pw@127.0.0.1:{port}/affea"),
        ("redis", "REDIS_URL", "redis://:secret-pw@127.0.0.1:{port}/0"),
        ("storage", "S3_ENDPOINT_URL", "http://127.0.0.1:{port}"),
    ],
)
def test_health_answers_503_naming_the_dead_component(
    subprocess_env: dict[str, str], component: str, variable: str, dead_url: str
) -> None:
    dead = dead_url.format(port=free_port())
    status, body, _ = _probe({**subprocess_env, variable: dead})

    assert status == 503
    payload = json.loads(body)
    assert payload["status"] == "unavailable"
    assert payload["components"][component] == "unavailable"
    assert all(state == "ok" for name, state in payload["components"].items() if name != component)
    # Nothing about where or how the service was reached leaks to the public answer.
    for secret in (dead, "secret-pw", "127.0.0.1", "Traceback"):
        assert secret not in body


@pytest.mark.django_db
def test_health_rejects_unsafe_methods(client: Client) -> None:
    assert client.post("/health/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("component", "variable", "hung_url"),
    [
        ("database", "DATABASE_URL", "postgres://affea:secret-pw@127.0.0.1:{port}/affea"),
        ("redis", "REDIS_URL", "redis://127.0.0.1:{port}/0"),
        ("storage", "S3_ENDPOINT_URL", "http://127.0.0.1:{port}"),
    ],
)
def test_health_answers_within_3_seconds_when_a_component_hangs(
    subprocess_env: dict[str, str], component: str, variable: str, hung_url: str
) -> None:
    with frozen_server() as port:
        status, body, seconds = _probe({**subprocess_env, variable: hung_url.format(port=port)})

    assert status == 503
    assert json.loads(body)["components"][component] == "unavailable"
    assert seconds < 3


@pytest.mark.django_db(transaction=True)
def test_health_probe_of_a_hung_s3_holds_no_thread_past_its_timeouts(
    client: Client, settings: Any
) -> None:
    with frozen_server() as port:
        settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        response = client.get("/health/")
        answered = time.monotonic() - started
        # The check left behind at the deadline gives up on its read timeout, not minutes later.
        deadline = time.monotonic() + health.READ_TIMEOUT + health.CONNECT_TIMEOUT + 1
        while any(t.name.startswith("health") for t in threading.enumerate()):
            assert time.monotonic() < deadline, "a health check thread is still waiting on S3"
            time.sleep(0.05)

    assert response.status_code == 503
    assert response.json()["components"] == {
        "database": "ok",
        "redis": "ok",
        "storage": "unavailable",
    }
    assert answered < 3


def _live_worker() -> Worker:
    """Register a worker of this host as `rqworker` does at start, heartbeat included."""
    connection = django_rq.get_connection("default")
    worker = Worker([Queue("default", connection=connection)], connection=connection)
    worker.register_birth()
    return worker


def _scheduler(*, beat_seconds_ago: float) -> RQScheduler:
    """The scheduler's lock and metadata in Redis, as its last heartbeat left them."""
    scheduler = RQScheduler(["default"], connection=django_rq.get_connection("default"))
    assert scheduler.acquire_locks() == {"default"}
    scheduler.register_birth()
    scheduler.last_heartbeat = now() - timedelta(seconds=beat_seconds_ago)
    scheduler.save()
    return scheduler


def test_check_worker_scheduler_passes_while_the_scheduler_beats() -> None:
    _live_worker()
    _scheduler(beat_seconds_ago=1)

    call_command("check_worker", "--scheduler")


def test_check_worker_scheduler_fails_when_no_scheduler_holds_the_queue() -> None:
    _live_worker()

    call_command("check_worker")  # the worker alone is alive
    with pytest.raises(CommandError, match="No live RQ scheduler"):
        call_command("check_worker", "--scheduler")


def test_check_worker_scheduler_fails_when_the_lock_outlives_a_killed_scheduler() -> None:
    # A SIGKILLed scheduler leaves its lock for a minute; only its heartbeat stops.
    _live_worker()
    _scheduler(beat_seconds_ago=60)

    with pytest.raises(CommandError, match="No live RQ scheduler"):
        call_command("check_worker", "--scheduler")
