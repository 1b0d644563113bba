"""`make run`: the whole platform on this machine, stopped together with Ctrl-C.

Starts what is missing (Redis on loopback, SeaweedFS as S3), records the services it
uses in .env for manage.py commands run beside it, migrates, seeds a demo staff account,
category and film, then runs web and worker from the Procfile through honcho.
Everything this script started is stopped when it exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import environ  # noqa: E402 - the project root must be importable first

from affea.localdev import (  # noqa: E402
    SeaweedS3,
    port_open,
    start_redis,
    start_seaweed,
    stop_process,
)

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

# What `make run` records in .env, so `manage.py shell`, `createsuperuser` or `migrate`
# run beside it reach the same database, Redis, storage and mail directory.
SHARED_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_BACKEND",
    "S3_ENDPOINT_URL",
    "S3_BUCKET",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "EMAIL_URL",
    "AFFEA_VAR_DIR",  # only when set: local storage's media live under it
)

_ENV_FILE_HEADER = """\
# Written by `make run` (scripts/run_local.py): the local services it uses, so that
# manage.py commands run beside it reach the same ones. Edit freely: a name already
# here is never written again. Not for docker compose, which needs its own values.
"""


def log(message: str) -> None:
    print(f"[affea] {message}", flush=True)


def env_file_path(environ_: Mapping[str, str]) -> Path | None:
    """The .env that settings read (AFFEA_ENV_FILE, empty for none), as affea/settings.py."""
    value = environ_.get("AFFEA_ENV_FILE", str(ROOT / ".env"))
    return Path(value) if value else None


def read_env_file(path: Path) -> dict[str, str]:
    """The names and values of `path` as settings see them (django-environ's parser)."""

    class _Parsed(environ.Env):
        ENVIRON: dict[str, str] = {}

    _Parsed.read_env(path)  # a missing file reads as empty
    return dict(_Parsed.ENVIRON)


def load_env(environ_: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    """Environment first, then .env, then the local defaults (SQLite and mail under var/)."""
    env = dict(environ_)
    if env_file:
        for key, value in read_env_file(env_file).items():
            env.setdefault(key, value)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    var = var_dir(env)
    env.setdefault("DATABASE_URL", f"sqlite:///{var / 'affea.sqlite3'}")
    env.setdefault("EMAIL_URL", f"filemail://{var / 'mail'}")
    env["DJANGO_SETTINGS_MODULE"] = "affea.settings"
    # The Procfile says `python` and `gunicorn`: they must be this virtualenv's.
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def var_dir(env: Mapping[str, str]) -> Path:
    """Local state (SQLite, mail, SeaweedFS and Redis data); AFFEA_VAR_DIR moves it."""
    return (ROOT / (env.get("AFFEA_VAR_DIR") or "var")).resolve()


def write_env_file(path: Path, env: Mapping[str, str]) -> list[str]:
    """Append the shared local settings that `path` does not name yet; return their names."""
    existing = read_env_file(path)
    missing = [key for key in SHARED_KEYS if key not in existing and key in env]
    if missing:
        text = path.read_text() if path.exists() else ""
        if text:
            text = text.rstrip("\n") + "\n\n"
        block = _ENV_FILE_HEADER + "".join(f"{key}={env[key]}\n" for key in missing)
        path.write_text(text + block)
    return missing


def ensure_redis(env: dict[str, str], var: Path) -> subprocess.Popen[bytes] | None:
    """Use the Redis at REDIS_URL; start one on loopback only when none answers there."""
    url = urlparse(env["REDIS_URL"])
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if port_open(host, port):
        log(f"Redis answers at {host}:{port}.")
        return None
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"Redis at {host}:{port} does not answer; fix REDIS_URL or start it.")
    subprocess.run([str(ROOT / "scripts/ensure-system.sh"), "redis-server"], check=True)
    log(f"Starting redis-server on 127.0.0.1:{port} (data in {var / 'redis'}).")
    try:
        return start_redis(port=port, data_dir=var / "redis")
    except RuntimeError as exc:
        sys.exit(f"{exc}; see {var / 'redis' / 'redis.log'}.")


def ensure_s3(env: dict[str, str], var: Path) -> SeaweedS3 | None:
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
    log(f"Starting SeaweedFS S3 on 127.0.0.1:{port} (data in {var / 'seaweed'}).")
    origins = sorted(
        {env["SITE_URL"], *filter(None, env.get("CORS_ALLOWED_ORIGINS", "").split(","))}
    )
    return start_seaweed(
        var / "seaweed",
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


def honcho_command() -> list[str]:
    """Web, worker and cron from the Procfile, in the environment `main` hands over.

    That environment is already the real one, then the .env (`load_env`): honcho's own
    reading of ./.env (its default) would put the file over exported values.
    """
    honcho = Path(PYTHON).parent / "honcho"
    return [str(honcho), "-f", str(ROOT / "Procfile"), "-e", os.devnull, "start"]


def main() -> int:
    env_file = env_file_path(os.environ)
    env = load_env(os.environ, env_file)
    var = var_dir(env)
    var.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    seaweed: SeaweedS3 | None = None
    # Ctrl-C reaches every process in the terminal's group; honcho stops web and
    # worker, and we stop the services we started once they are gone.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        redis_process = ensure_redis(env, var)
        if redis_process:
            started.append(redis_process)
        seaweed = ensure_s3(env, var)
        if env_file and (written := write_env_file(env_file, env)):
            log(f"Wrote {', '.join(written)} to {env_file}: manage.py commands use them too.")
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
        log(f"  mail        {env['EMAIL_URL']}")
        log("Press Ctrl-C to stop everything.")
        runner = subprocess.Popen(honcho_command(), cwd=ROOT, env=env)
        try:
            code = runner.wait()
            # Ctrl-C stopped honcho before it reached us: a clean stop, not an error.
            return 0 if code in (130, -signal.SIGINT) else code
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
