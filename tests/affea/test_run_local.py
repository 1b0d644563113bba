"""`make run`'s orchestrator brings the whole platform up and Ctrl-C takes it all down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from affea.localdev import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


@pytest.mark.slow
def test_run_local_serves_health_and_admin_then_stops_everything_on_ctrl_c(
    tmp_path: Path,
) -> None:
    web, s3, redis_port = free_port(), free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "DATABASE_URL", "AFFEA_TESTING", "STORAGE_BACKEND"))
    }
    env.update(
        {
            # A fresh checkout's defaults, moved to free ports and a private state dir:
            # SQLite, a Redis it must start itself, SeaweedFS it starts.
            "AFFEA_VAR_DIR": str(tmp_path / "var"),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3}",
            "WEB_BIND": f"127.0.0.1:{web}",
            "SITE_URL": f"http://127.0.0.1:{web}",
            "WEB_CONCURRENCY": "1",
        }
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's job
        )
    try:
        deadline = time.monotonic() + 240
        status, body = get(f"http://127.0.0.1:{web}/health/")
        while status != 200 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(1)
            status, body = get(f"http://127.0.0.1:{web}/health/")
        assert status == 200, log.read_text()
        assert json.loads(body)["components"] == {
            "database": "ok",
            "redis": "ok",
            "storage": "ok",
        }
        admin_status, admin_page = get(f"http://127.0.0.1:{web}/admin/login/")
        assert admin_status == 200
        assert b'name="username"' in admin_page  # the email field of the login form
    finally:
        # What Ctrl-C in a terminal does: SIGINT to the whole foreground group.
        os.killpg(process.pid, signal.SIGINT)
        exit_code = process.wait(timeout=90)

    output = log.read_text()
    assert exit_code == 0, output
    assert "Starting redis-server" in output
    assert "staff@affea.local" in output  # the demo credentials are printed
    for port in (web, s3, redis_port):
        assert not port_open("127.0.0.1", port), f"port {port} still open after Ctrl-C"
