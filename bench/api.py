"""Benchmark of the catalogue API under gunicorn on loopback, all measured in one run.

Prints:
- requests/s of GET /api/content/ (24 films) / requests/s of a bare Django JsonResponse view
  (goal >= 0.5), anonymous and signed in;
- requests/s of GET /api/content/video-url/<id>/ (signed in) / the same baseline (goal >= 0.5);
- the time to generate 1,000 presigned URLs in-process (goal <= 0.3 s), and botocore's time.

Usage: .venv/bin/python bench/api.py
Uses PostgreSQL database BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
affea_bench_api, created if missing) or a temporary SQLite file if BENCH_DATABASE_URL=sqlite.
gunicorn runs with the project's gunicorn.conf.py (gthread), access log off, no worker
recycling; the load comes
from BENCH_CLIENTS keep-alive connections (default 8) in two client processes for
BENCH_SECONDS (default 10) per endpoint, split into BENCH_ROUNDS (default 5) rounds. Each round
measures the bare view and every endpoint back to back (and the bare view once more at the
end), so a ratio compares rates taken under the same machine load: each round's ratio
divides by the mean of the bare rates measured just before and just after it, and the
median ratio over the rounds is printed. Presigning needs no S3 server, so none is started.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
FILMS = 24


def _database_url(tmp: Path) -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/affea_bench_api")
    if url == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return url


def _seed() -> tuple[int, str]:
    """Migrate, create 24 playable films and a viewer; return a film id and an access token."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from content_app.models import Category, Film, Rendition, WatchProgress
    from users_app.models import User

    call_command("migrate", verbosity=0)
    Film.objects.all().delete()
    category, _ = Category.objects.get_or_create(name="Drama", slug="drama")
    now = timezone.now()
    films = []
    for number in range(FILMS):
        film = Film.objects.create(
            title=f"Bench film {number}",
            slug=f"bench-film-{number}",
            description="A short film made for the benchmark. " * 4,
            credits="Director: Someone",
            category=category,
            duration=600.0,
            is_published=True,
            published_at=now,
            processing_state="ready",
            thumbnail=f"films/bench-{number}/images/thumb.jpg",
        )
        for quality in ("120p", "360p", "720p"):
            Rendition.objects.create(
                film=film,
                quality=quality,
                status="ready",
                media_key=f"films/bench-{number}/renditions/{quality}.mp4",
                playlist_key=f"films/bench-{number}/renditions/{quality}.m3u8",
            )
        films.append(film)
    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        email="bench@example.com", password="bench-password-123"
    )
    WatchProgress.objects.filter(user=user).delete()
    return films[0].pk, str(AccessToken.for_user(user))


def _worker(port: int, path: str, headers: dict[str, str], seconds: float, threads: int,
            counts: multiprocessing.Queue) -> None:  # fmt: skip
    done, errors = 0, 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        nonlocal done, errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = 0, 0
        while time.monotonic() < deadline:
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    mine += 1
                else:
                    bad += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with lock:
            done += mine
            errors += bad

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    counts.put((done, errors))


def _warm_up(port: int, path: str, headers: dict[str, str] | None = None) -> None:
    """Open connections and fill worker caches (imports, compiled URLs, signed images)."""
    counts: multiprocessing.Queue = multiprocessing.Queue()
    _worker(port, path, {"Host": "127.0.0.1", **(headers or {})}, 1.0, 2, counts)
    counts.get()


def _rate(port: int, path: str, headers: dict[str, str] | None = None) -> float:
    """Requests/s that `path` sustains with CLIENTS keep-alive connections for one round."""
    headers = {"Host": "127.0.0.1", **(headers or {})}
    seconds = SECONDS / ROUNDS
    processes = 2
    counts: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_worker, args=(port, path, headers, seconds, CLIENTS // processes, counts)
        )
        for _ in range(processes)
    ]
    started = time.monotonic()
    for process in workers:
        process.start()
    results = [counts.get() for _ in workers]
    for process in workers:
        process.join()
    elapsed = time.monotonic() - started
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    if errors:
        raise SystemExit(f"{path}: {errors} failed requests")
    return done / max(elapsed, seconds)


def _measure(port: int, endpoints: dict[str, tuple[str, dict[str, str]]]) -> tuple[
    list[float], dict[str, list[float]], dict[str, list[float]]
]:  # fmt: skip
    """Interleaved rounds: bare view, each endpoint, ..., bare view; rates and ratios."""
    bare_path = "/bench/bare/"
    _warm_up(port, bare_path)
    for path, headers in endpoints.values():
        _warm_up(port, path, headers)
    bares = [_rate(port, bare_path)]
    rates: dict[str, list[float]] = {label: [] for label in endpoints}
    ratios: dict[str, list[float]] = {label: [] for label in endpoints}
    for _ in range(ROUNDS):
        for label, (path, headers) in endpoints.items():
            rates[label].append(_rate(port, path, headers))
        bares.append(_rate(port, bare_path))
        baseline = (bares[-2] + bares[-1]) / 2
        for label in endpoints:
            ratios[label].append(rates[label][-1] / baseline)
    return bares, rates, ratios


def _presign_timing() -> tuple[float, float]:
    from django.conf import settings

    from affea.storage import s3_client
    from content_app.playback import signed_media_url

    signed_media_url("films/warm/renditions/720p.mp4")
    started = time.perf_counter()
    for number in range(1000):
        signed_media_url(f"films/{number}/renditions/720p.mp4")
    ours = time.perf_counter() - started
    client = s3_client()
    started = time.perf_counter()
    for number in range(1000):
        client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": settings.AWS_STORAGE_BUCKET_NAME,
                "Key": f"films/{number}/renditions/720p.mp4",
                "ResponseContentType": "video/mp4",
            },
            ExpiresIn=300,
        )
    return ours, time.perf_counter() - started


def main() -> None:
    from affea.localdev import free_port, port_open, stop_process

    with tempfile.TemporaryDirectory(prefix="affea-bench-api-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS", "bench.api_settings"),
            "DATABASE_URL": _database_url(Path(tmp)),
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
            "DEBUG": "0",
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
            "LOG_LEVEL": "WARNING",
        }
        os.environ.update(env)
        film_id, token = _seed()
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--config", str(ROOT / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
                # No worker recycling during the run: at ~1,000 req/s, max_requests would
                # restart a worker every few seconds (a cold import on the measured cores).
                "--max-requests", "0",
                "--error-logfile", str(Path(tmp) / "gunicorn.log"),
                "affea.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not port_open("127.0.0.1", port):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start; see its error log")
                time.sleep(0.2)
            cookie = {"Cookie": f"access_token={token}"}
            bares, rates, ratios = _measure(
                port,
                {
                    "list, 24 films, anonymous": ("/api/content/", {}),
                    "list, 24 films, signed in": ("/api/content/", cookie),
                    "video-url, signed in": (
                        f"/api/content/video-url/{film_id}/?quality=720p",
                        cookie,
                    ),
                },
            )
        finally:
            stop_process(server)
        ours, botocore = _presign_timing()

    goals = {
        "list, 24 films, anonymous": " (goal >= 0.5)",
        "video-url, signed in": " (goal >= 0.5)",
    }
    print(
        f"gunicorn on loopback, {CLIENTS} keep-alive clients, {SECONDS:.0f} s per endpoint "
        f"in {ROUNDS} interleaved rounds; medians over the rounds"
    )
    runs = ", ".join(f"{rate:.0f}" for rate in bares)
    print(f"{'bare JsonResponse view':34}{statistics.median(bares):8.0f} req/s (runs {runs})")
    for label in rates:
        rate, ratio = statistics.median(rates[label]), statistics.median(ratios[label])
        each = ", ".join(f"{r:.2f}" for r in ratios[label])
        print(
            f"{label:34}{rate:8.0f} req/s  ratio {ratio:.2f}{goals.get(label, '')} (rounds {each})"
        )
    label = "1,000 presigned URLs in-process"
    print(f"{label:34}{ours:8.3f} s (goal <= 0.3); botocore {botocore:.3f} s")


if __name__ == "__main__":
    main()
