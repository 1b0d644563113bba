"""Latency and throughput of the catalogue API as users feel it, at 100 and 10,000 films.

Prints one table (median over BENCH_ROUNDS rounds, default 3) of p50/p95 latency and
requests/s at 50 concurrent keep-alive clients (wrk), the p95 ratio 10,000/100 films and
the queries one request makes, for: list page 1, search, detail, video-url, HLS master,
the bare list and the home page, beside a bare Django view measured in the same run; then
the bare list at 10,000 films fetched by one client, and the goals of issue 9 item 12.

Usage: .venv/bin/python bench/api.py   (needs wrk: `scripts/ensure-system.sh wrk` as root)

Two gunicorns (the project's gunicorn.conf.py, access log off, no worker recycling) serve
two PostgreSQL databases at once: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:
5432/affea_bench_api) holds 10,000 films and `<its name>_100` holds 100; both are created if
missing, migrated and reseeded. Each round measures both catalogues, in alternating order,
and the bare view before every endpoint, so slow drift of a shared machine falls on both
sides of a ratio. Every window starts after a catalogue change whose answer is rebuilt by
one request (timed: the cache-miss lines) and after the server has finished the previous
window's requests. Redis is BENCH_REDIS_URL (default redis://127.0.0.1:6379/9), flushed at
start. Presigned URLs are signed, never fetched, so S3 is a dummy endpoint. Each endpoint
is loaded for BENCH_SECONDS (default 3) per round; any failed request aborts the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _load  # noqa: E402
from _catalogue import SEARCH_WORD, USER_PK  # noqa: E402
from _report import BARE, BARE_LABEL, ENDPOINTS, SIZES, report  # noqa: E402

from affea.localdev import free_port, port_open, stop_process  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
BARE_SECONDS = 2.0
# The bare list at 10,000 films answers ~14 MB: a few requests per second, so a longer
# window gives its percentiles enough samples.
HEAVY_SECONDS = 8.0
ONE_CLIENT_SECONDS = 5.0
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CLIENTS = 50
_GUNICORN_CONF = """
import runpy
globals().update(
    {k: v for k, v in runpy.run_path(%r).items() if not k.startswith("__")}
)
accesslog = None
# No recycling: at this load all workers reach max_requests within seconds of each other
# and reboot Django together, so a window would measure imports, not requests.
max_requests = 0
"""


def _database(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    return url


def _environment(tmp: Path) -> dict[int, dict[str, str]]:
    base = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/affea_bench_api"
    )
    parts = urlsplit(base)
    common = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "AFFEA_ENV_FILE": "",  # a developer's .env must not leak into the measurement
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "DEBUG": "0",
        "EMAIL_URL": "consolemail://",
        "SECRET_KEY": "bench-" + "k3y-" * 16,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://bench.affea.invalid",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "S3_BUCKET": "affea-bench",
        "S3_ACCESS_KEY_ID": "bench-key",
        "S3_SECRET_ACCESS_KEY": "bench-secret",
        "S3_ADDRESSING_STYLE": "path",
        "DMCA_AGENT_NAME": "Bench Agent",
        "DMCA_AGENT_ADDRESS": "1 Bench Street, Springfield",
        "DMCA_AGENT_EMAIL": "dmca@bench.affea.invalid",
        "DMCA_AGENT_PHONE": "+1 555 0100",
        "LOG_LEVEL": "WARNING",
        # One catalogue version for both servers (their list entries differ by host:port),
        # so the benchmark can move it as a write service would.
        "CACHE_KEY_PREFIX": "bench",
        "PYTHONPATH": str(ROOT),
        "STATIC_ROOT": str(tmp / "staticfiles"),
    }
    envs = {}
    for films in SIZES:
        name = parts.path.lstrip("/") + ("" if films == max(SIZES) else f"_{films}")
        envs[films] = {
            **common,
            "DATABASE_URL": _database(parts._replace(path=f"/{name}").geturl()),
        }
    return envs


def _catalogue(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "_catalogue.py"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"_catalogue.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _start(env: dict[str, str], tmp: Path, films: int) -> tuple[subprocess.Popen[bytes], str]:
    conf = tmp / "gunicorn.conf.py"
    conf.write_text(_GUNICORN_CONF % str(ROOT / "gunicorn.conf.py"), encoding="utf-8")
    port = free_port()
    log = tmp / f"gunicorn-{films}.log"
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--config", str(conf),
            "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log),
            # Two benchmark servers (and maybe `make run`) must not share one control socket.
            "--no-control-socket",
            "affea.wsgi:application",
        ],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        # The port opens before the workers have imported Django (or failed to).
        if port_open("127.0.0.1", port):
            try:
                _load.check(f"http://127.0.0.1:{port}{BARE}", {}, expect="ok")
                break
            except (_load.LoadError, OSError):
                pass
        if time.monotonic() > deadline or server.poll() is not None:
            stop_process(server)
            raise SystemExit(f"gunicorn did not start:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)
    return server, f"http://127.0.0.1:{port}"


class Bench:
    def __init__(
        self, servers: dict[int, tuple[subprocess.Popen[bytes], str]], films: dict[int, int],
        password_hash: str, tmp: Path,
    ) -> None:  # fmt: skip
        self.script = _load.write_script(tmp)
        self.pids = {size: server.pid for size, (server, _) in servers.items()}
        self.bases = {size: base for size, (_, base) in servers.items()}
        self.films, self.password_hash = films, password_hash
        # (endpoint, films): ms of the one request that rebuilt the answer after a change.
        self.misses: dict[tuple[str, int], list[float]] = {}

    def headers(self, signed_in: bool) -> dict[str, str]:
        if not signed_in:
            return {}
        # A fresh token each time: access tokens live 5 minutes, the run longer.
        from rest_framework_simplejwt.tokens import AccessToken

        from users_app.models import User

        viewer = User(pk=USER_PK, password=self.password_hash, is_active=True)
        return {"Cookie": f"access_token={AccessToken.for_user(viewer)}"}

    def url(self, films: int, path: str) -> str:
        return self.bases[films] + path.format(film=self.films[films], word=SEARCH_WORD)

    def fresh(self, films: int, endpoint: tuple[str, str, bool, str]) -> float:
        """Move the catalogue version, then build and check the answer; return its time (ms).

        Cached answers expire after a minute; starting every window from a fresh entry keeps
        an expiry (a rebuild by every thread at once) out of the few seconds measured.
        """
        from content_app.catalogue_cache import catalogue_changed

        label, path, signed_in, expect = endpoint
        catalogue_changed()
        started = time.perf_counter()
        body = _load.check(self.url(films, path), self.headers(signed_in), expect=expect)
        if label == "HLS master" and body.count(b"#EXT-X-STREAM-INF") != 4:
            raise SystemExit(f"the HLS master does not list the 4 renditions:\n{body!r}")
        return (time.perf_counter() - started) * 1000

    def load(
        self, films: int, path: str, signed_in: bool = False, *, seconds: float = SECONDS,
        connections: int = CLIENTS, minimum: int = 1,
    ) -> _load.Sample:  # fmt: skip
        # As browsers and HTTP libraries do: the cached bare list is then sent as stored.
        headers = {**self.headers(signed_in), "Accept-Encoding": "gzip"}
        sample = _load.run(
            self.url(films, path), script=self.script, headers=headers,
            seconds=seconds, connections=connections, threads=2, minimum=minimum,
        )  # fmt: skip
        _load.settle(self.pids[films])
        return sample

    def warm_up(self) -> None:
        """Load every endpoint briefly: imports, database connections, compiled templates."""
        for films in SIZES:
            _load.check(self.url(films, BARE), {}, expect="ok")
            self.load(films, BARE, seconds=2)
            for endpoint in ENDPOINTS:
                self.fresh(films, endpoint)
                self.load(films, endpoint[1], endpoint[2], seconds=2, connections=16, minimum=0)

    def measure(self) -> tuple[dict[tuple[str, int], list[_load.Sample]], list[_load.Sample]]:
        samples: dict[tuple[str, int], list[_load.Sample]] = {}
        one_client: list[_load.Sample] = []
        for number in range(ROUNDS):
            for films in SIZES if number % 2 == 0 else SIZES[::-1]:
                print(f"round {number + 1}/{ROUNDS}, {films} films", file=sys.stderr, flush=True)
                bare = samples.setdefault((BARE_LABEL, films), [])
                for endpoint in ENDPOINTS:
                    label, path, signed_in, _ = endpoint
                    bare.append(self.load(films, BARE, seconds=BARE_SECONDS))
                    built = self.fresh(films, endpoint)
                    heavy = label == "bare list"
                    self.misses.setdefault((label, films), []).append(built)
                    seconds = max(SECONDS, HEAVY_SECONDS) if heavy else SECONDS
                    sample = self.load(films, path, signed_in, seconds=seconds)
                    samples.setdefault((label, films), []).append(sample)
                    if heavy and films == max(SIZES):
                        # A fresh entry again (draining 50 clients may outlast the first),
                        # then one client, requests one after another.
                        self.fresh(films, endpoint)
                        one_client.append(
                            self.load(films, path, seconds=ONE_CLIENT_SECONDS, connections=1)
                        )
                bare.append(self.load(films, BARE, seconds=BARE_SECONDS))
        return samples, one_client


def main() -> None:
    _load.wrk_binary()
    with tempfile.TemporaryDirectory(prefix="affea-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        envs = _environment(tmp)
        os.environ.update(envs[max(SIZES)])
        import django
        import redis

        django.setup()
        from django.contrib.auth.hashers import make_password

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
        password_hash = make_password("bench-password-123")
        # Pages need the static manifest, as in production (entrypoint.sh).
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT, env=envs[max(SIZES)], capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"collectstatic failed:\n{done.stderr}")
        print("encoding one rendition with the pipeline's FFmpeg commands", file=sys.stderr)
        _catalogue(envs[max(SIZES)], "describe", str(tmp / "hls.json"))
        film_ids = {}
        for films in SIZES:
            print(f"seeding {films} films", file=sys.stderr, flush=True)
            env = {**envs[films], "BENCH_PASSWORD_HASH": password_hash}
            seeded = _catalogue(env, "seed", str(films), str(tmp / "hls.json"))
            film_ids[films] = json.loads(seeded)["film"]
        servers: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            for films in SIZES:
                servers[films] = _start(envs[films], tmp, films)
            bench = Bench(servers, film_ids, password_hash, tmp)
            print("warming up", file=sys.stderr, flush=True)
            bench.warm_up()
            samples, one_client = bench.measure()
        finally:
            for server, _ in servers.values():
                stop_process(server)
        endpoints = tmp / "endpoints.json"
        queries = {}
        for films in SIZES:
            rows = [(BARE_LABEL, BARE, False)] + [
                (label, bench.url(films, path)[len(bench.bases[films]) :], signed_in)
                for label, path, signed_in, _ in ENDPOINTS
            ]
            endpoints.write_text(json.dumps(rows), encoding="utf-8")
            queries[films] = json.loads(_catalogue(envs[films], "queries", str(endpoints)))
    report(samples, one_client, queries, bench.misses, seconds=SECONDS, clients=CLIENTS)


if __name__ == "__main__":
    main()
