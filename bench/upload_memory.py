"""Peak memory of the web process while a 1 GB film is posted through the admin add form.

Starts SeaweedFS and gunicorn (the project's gunicorn.conf.py, one worker), signs in as a
superuser, streams a multipart POST of a sparse 1 GB `.mp4` to /admin/content_app/film/add/,
and reads the gunicorn worker's VmHWM (peak RSS) from /proc before and after.
Goal: under 150 MB. Usage: .venv/bin/python bench/upload_memory.py [size_mb]
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _proc import gunicorn_worker_pid, status_kb  # noqa: E402

from affea.localdev import free_port, port_open, start_redis, start_seaweed, stop_process  # noqa: E402

GOAL_MB = 150
EMAIL, PASSWORD = "bench@affea.local", "bench-password-123"


class Client:
    """A tiny cookie-keeping HTTP client that can stream a request body."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1800)
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            self.cookies.update({k: m.value for k, m in cookie.items()})
        text = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, text

    def csrf_form(self, path: str) -> str:
        status, page = self.request("GET", path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: {status}")
        return match.group(1)


def _multipart(fields: dict[str, str], file_path: Path, boundary: str) -> tuple[list[bytes], int]:
    """Return the body's parts (the file as a marker) and the total length."""
    head = b""
    for name, value in fields.items():
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="source"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return [head, tail], len(head) + file_path.stat().st_size + len(tail)


def _stream(head: bytes, file_path: Path, tail: bytes) -> Iterator[bytes]:
    yield head
    with file_path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            yield chunk
    yield tail


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    work = Path(tempfile.mkdtemp(prefix="affea-upload-bench-"))
    redis_port = free_port()
    redis_server = start_redis(port=redis_port)  # private: no other worker takes its jobs
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    seaweed = start_seaweed(
        work / "seaweed", bucket="affea-upload", access_key="k-bench", secret_key="s-bench"
    )
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "affea.settings",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "REDIS_URL": redis_url,
        "STORAGE_BACKEND": os.environ.get("BENCH_STORAGE", "s3"),
        "MEDIA_ROOT": str(work / "media"),
        "S3_ENDPOINT_URL": seaweed.endpoint_url,
        "S3_BUCKET": seaweed.bucket,
        "S3_ACCESS_KEY_ID": seaweed.access_key,
        "S3_SECRET_ACCESS_KEY": seaweed.secret_key,
        "S3_ADDRESSING_STYLE": "path",
        "FILE_UPLOAD_TEMP_DIR": str(work),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "WEB_TIMEOUT": "1800",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "shell", "-c",
         "from users_app.models import User; "
         f"User.objects.create_superuser(email='{EMAIL}', password='{PASSWORD}')"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    big = work / "big.mp4"
    with big.open("wb") as handle:
        # Sparse: a gigabyte on paper that costs no time to write; the web process still
        # receives and stores every byte.
        handle.truncate(size_mb * 1024 * 1024)
    gunicorn = subprocess.Popen(
        [str(Path(python).parent / "gunicorn"), "affea.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        worker = gunicorn_worker_pid(gunicorn.pid)
        client = Client(port)
        token = client.csrf_form("/admin/login/")
        form = f"csrfmiddlewaretoken={token}&username={EMAIL}&password={PASSWORD}&next=/admin/"
        status, _ = client.request(
            "POST",
            "/admin/login/",
            body=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302:
            raise RuntimeError(f"login failed: {status}")
        token = client.csrf_form("/admin/content_app/film/add/")
        before = status_kb(worker, "VmHWM") / 1024
        boundary = uuid.uuid4().hex
        fields = {
            "csrfmiddlewaretoken": token,
            "title": "Big upload",
            "slug": "big-upload",
            # The management forms of the page's inlines, each empty.
            **{
                f"{inline}-{name}": value
                for inline in ("subtitles", "renditions")
                for name, value in (
                    ("TOTAL_FORMS", "0"),
                    ("INITIAL_FORMS", "0"),
                    ("MIN_NUM_FORMS", "0"),
                    ("MAX_NUM_FORMS", "1000"),
                )
            },
        }
        (head, tail), length = _multipart(fields, big, boundary)
        started = time.perf_counter()
        status, _ = client.request(
            "POST",
            "/admin/content_app/film/add/",
            body=_stream(head, big, tail),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
            },
        )
        elapsed = time.perf_counter() - started
        if status != 302:
            raise RuntimeError(f"upload failed: HTTP {status}")
        after = status_kb(worker, "VmHWM") / 1024
        stored = seaweed.client().list_objects_v2(Bucket=seaweed.bucket).get("Contents", [])
        sizes = [item["Size"] for item in stored]
        print(
            f"uploaded {size_mb} MB through the admin in {elapsed:.1f} s; objects stored: {sizes}"
        )
        print(f"web worker peak RSS (VmHWM): {before:.0f} MB before, {after:.0f} MB after "
              f"(goal < {GOAL_MB} MB): {'OK' if after < GOAL_MB else 'OVER'}")  # fmt: skip
    finally:
        stop_process(gunicorn, timeout=30)
        seaweed.stop()
        stop_process(redis_server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
