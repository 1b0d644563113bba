"""`make run`: the whole platform on this machine, stopped together with Ctrl-C.

Starts what is missing (Redis on loopback, SeaweedFS as S3), migrates, seeds a demo
staff account, category and film, then runs web and worker from the Procfile through
honcho. Everything this script started is stopped when it exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from affea.localdev import (  # noqa: E402 - the project root must be importable first
    SeaweedS3,
    port_open,
    start_redis,
    start_seaweed,
    stop_process,
)

# Local state (SQLite, SeaweedFS and Redis data); AFFEA_VAR_DIR moves it elsewhere.
VAR = Path(os.environ.get("AFFEA_VAR_DIR", ROOT / "var"))
PYTHON = sys.executable

# Local defaults; anything already in the environment (or .env) wins.
DEFAULTS = {
    "DEBUG": "1",
    "STORAGE_BACKEND": "s3",
    "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "S3_BUCKET": "affea",
    "S3_ACCESS_KEY_ID": "affea-local",
    "S3_SECRET_ACCESS_KEY": "affea-local-secret",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "WEB_BIND": "127.0.0.1:8000",
    "SITE_URL": "http://127.0.0.1:8000",
}


def log(message: str) -> None:
    print(f"[affea] {message}", flush=True)


def load_env() -> dict[str, str]:
    env = dict(os.environ)
    dotenv = ROOT / ".env"
    if dotenv.exists():
        for line in dotenv.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env.setdefault(key.strip(), value.strip().strip("'\""))
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    env["DJANGO_SETTINGS_MODULE"] = "affea.settings"
    # The Procfile says `python` and `gunicorn`: they must be this virtualenv's.
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def ensure_redis(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    """Use the Redis at REDIS_URL; start one on loopback only when none answers there."""
    url = urlparse(env["REDIS_URL"])
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if port_open(host, port):
        log(f"Redis answers at {host}:{port}.")
        return None
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"Redis at {host}:{port} does not answer; fix REDIS_URL or start it.")
    subprocess.run([str(ROOT / "scripts/ensure-system.sh"), "redis-server"], check=True)
    log(f"Starting redis-server on 127.0.0.1:{port} (data in {VAR / 'redis'}).")
    try:
        return start_redis(port=port, data_dir=VAR / "redis")
    except RuntimeError as exc:
        sys.exit(f"{exc}; see {VAR / 'redis' / 'redis.log'}.")


def ensure_s3(env: dict[str, str]) -> SeaweedS3 | None:
    """Start SeaweedFS for a local endpoint; a remote S3 endpoint is used as it is."""
    if env["STORAGE_BACKEND"] != "s3":
        return None
    endpoint = urlparse(env["S3_ENDPOINT_URL"])
    if endpoint.hostname not in ("127.0.0.1", "localhost"):
        log(f"Using S3 at {endpoint.hostname}.")
        return None
    port = endpoint.port or 8333
    if port_open("127.0.0.1", port):
        sys.exit(f"Port {port} is taken: is another `make run` still running? Stop it first.")
    log(f"Starting SeaweedFS S3 on 127.0.0.1:{port} (data in {VAR / 'seaweed'}).")
    origins = sorted(
        {env["SITE_URL"], *filter(None, env.get("CORS_ALLOWED_ORIGINS", "").split(","))}
    )
    return start_seaweed(
        VAR / "seaweed",
        bucket=env["S3_BUCKET"],
        access_key=env["S3_ACCESS_KEY_ID"],
        secret_key=env["S3_SECRET_ACCESS_KEY"],
        s3_port=port,
        cors_origins=origins,
    )


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    env = load_env()
    VAR.mkdir(exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    seaweed: SeaweedS3 | None = None
    # Ctrl-C reaches every process in the terminal's group; honcho stops web and
    # worker, and we stop the services we started once they are gone.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        redis_process = ensure_redis(env)
        if redis_process:
            started.append(redis_process)
        seaweed = ensure_s3(env)
        manage(env, "migrate", "--noinput")
        # As in production; it also spares whitenoise's warning about a missing STATIC_ROOT.
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(env, "seed_demo")
        site = env["SITE_URL"]
        log("Affea is starting:")
        log(f"  site        {site}/")
        log(f"  admin       {site}/admin/  (demo staff account printed above)")
        log(f"  API docs    {site}/api/docs/")
        log(f"  health      {site}/health/")
        log(f"  RQ queues   {site}/admin/django_rq/dashboard/")
        if seaweed:
            log(f"  S3          {seaweed.endpoint_url}  (bucket {seaweed.bucket})")
        log("Press Ctrl-C to stop everything.")
        honcho = Path(PYTHON).parent / "honcho"
        procfile = str(ROOT / "Procfile")
        runner = subprocess.Popen([str(honcho), "-f", procfile, "start"], cwd=ROOT, env=env)
        try:
            return runner.wait()
        except KeyboardInterrupt:
            # A terminal's Ctrl-C reached honcho too: give it time to stop web and worker.
            try:
                runner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop_process(runner)
            return 0
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        log(f"Set-up step failed ({' '.join(map(str, exc.cmd))}); stopping.")
        return exc.returncode or 1
    finally:
        log("Stopping local services...")
        if seaweed:
            seaweed.stop()
        for process in started:
            stop_process(process)
        log("Stopped.")


if __name__ == "__main__":
    sys.exit(main())
