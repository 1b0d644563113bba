"""gunicorn.conf.py: two instances run by one account never share a control socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from affea.localdev import free_port, port_open, stop_process

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"
APP = 'def app(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n'


def _start(tmp: Path, home: Path, **env: str) -> tuple[subprocess.Popen[bytes], Path]:
    """A gunicorn with the project's settings (one worker) serving a one-line app."""
    port = free_port()
    log = tmp / f"gunicorn-{port}.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(CONF), "--bind", f"127.0.0.1:{port}",
         "--error-logfile", str(log), "--log-level", "info", "--pythonpath", str(tmp),
         "tinyapp:app"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR",)},
            "HOME": str(home),
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "1",
            **env,
        },
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "Booting worker" not in (text := log.read_text() if log.exists() else ""):
        assert server.poll() is None, text
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert port_open("127.0.0.1", port)
    return server, log


def _gunicornc(socket: Path) -> subprocess.CompletedProcess[str]:
    gunicornc = Path(sys.executable).parent / "gunicornc"
    return subprocess.run(
        [str(gunicornc), "-s", str(socket), "-c", "show workers", "-j"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_gunicorn_opens_no_shared_control_socket_by_default(tmp_path: Path) -> None:
    (tmp_path / "tinyapp.py").write_text(APP)
    home = tmp_path / "home"
    home.mkdir()
    first, first_log = _start(tmp_path, home)
    second, _ = _start(tmp_path, home)
    try:
        assert not (home / ".gunicorn").exists()
        assert "Control socket listening" not in first_log.read_text()
    finally:
        stop_process(second)
        stop_process(first)


def test_each_gunicorn_keeps_its_own_control_socket_when_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "tinyapp.py").write_text(APP)
    home = tmp_path / "home"
    home.mkdir()
    sockets = [tmp_path / "web-a.ctl", tmp_path / "web-b.ctl"]
    first, _ = _start(tmp_path, home, WEB_CONTROL_SOCKET=str(sockets[0]))
    second, _ = _start(tmp_path, home, WEB_CONTROL_SOCKET=str(sockets[1]))
    try:
        deadline = time.monotonic() + 10
        while not all(socket.exists() for socket in sockets):
            assert time.monotonic() < deadline, "a control socket never appeared"
            time.sleep(0.1)
        stop_process(second)
        # The other instance's exit left this one's socket alone, and it still answers.
        assert sockets[0].exists()
        assert not sockets[1].exists()
        answer = _gunicornc(sockets[0])
        assert answer.returncode == 0, answer.stdout + answer.stderr
        assert json.loads(answer.stdout)["count"] == 1
        assert not (home / ".gunicorn").exists()
    finally:
        stop_process(second)
        stop_process(first)


def test_a_malformed_count_stops_gunicorn_with_a_message_naming_it(tmp_path: Path) -> None:
    (tmp_path / "tinyapp.py").write_text(APP)
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", str(CONF), "--check-config",
         "--pythonpath", str(tmp_path), "tinyapp:app"],
        cwd=ROOT,
        env={**os.environ, "WEB_THREADS": "4x"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip

    assert done.returncode != 0
    assert "WEB_THREADS must be a whole number of at least 1, not '4x'." in done.stderr
