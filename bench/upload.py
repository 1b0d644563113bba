"""Direct uploads from the film admin page: Chromium with Uppy against boto3, web memory, resends.

Prints, all measured in this one run against one SeaweedFS on loopback:
(a) upload throughput (MB/s) of a file sent through the admin change page by Debian's
    Chromium with Uppy (Playwright), against boto3's multipart `upload_file` of the same
    file with `aws s3 cp`'s defaults (8 MiB parts, 10 threads), and the ratio (goal >= 0.8);
    to tell where the difference goes: the time Uppy spent inside part PUTs, sign requests
    and the completion (with the server's check), boto3 with one thread and the admin's part
    size (the browser's way of sending), and Chromium alone PUTting the same parts with
    plain XHR from the sign-in page (presigned by boto3 beforehand, no Uppy);
(b) the web worker's peak RSS (VmHWM from /proc; gunicorn with gunicorn.conf.py, one
    worker) with the admin page loaded, after a 32 MiB warm-up upload (first use of its S3
    client and the check), after the big direct uploads, and its largest RSS during them:
    no byte of the file passes through it, so the last three should not differ;
(c) parts sent again after an interruption: `context.set_offline(True)` at half of an
    upload, back after a few seconds.
Medians over --runs rounds (browser and boto3 alternate within a round).

On loopback the uploader and storage share the machine's cores, so whatever the client
spends on moving bytes (Chromium's browser and network processes spend more than boto3)
is taken from SeaweedFS. `--split-cpus` runs storage and the web process on the first
core and the clients (Chromium, boto3) on the others, as staff's computer and the storage
service are apart in production; without it they share all cores.

Usage: .venv/bin/python bench/upload.py [--size-mb 2048] [--runs 1] [--part-mb 16]
       [--interrupt-size-mb 512] [--split-cpus]
The file is a real MP4 (one second of lavfi) padded with a sparse `free` box to the size,
so a 2 GB file costs no time to write, and the server's check (ffprobe) accepts it.
Starts its own SeaweedFS, redis-server and gunicorn; the database is SQLite in a temp dir.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _proc import gunicorn_worker_pid, pin, process_tree, status_kb  # noqa: E402

from affea.localdev import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_FLAGS,
    free_port,
    port_open,
    start_redis,
    start_seaweed,
    stop_process,
)

RATIO_GOAL = 0.8
EMAIL, PASSWORD = "bench@affea.local", "bench-password-123"
MIB = 1024 * 1024
OFFLINE_SECONDS = 3
_SIGN = re.compile(r"/upload/s3/multipart/[^/?]+/\d+\?")


class RssWatch(threading.Thread):
    """The largest RSS of a process seen while running (sampled every 0.2 s)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))


def make_video(path: Path, size: int, work: Path) -> None:
    """A playable MP4 of exactly `size` bytes: a real clip, then a sparse `free` box."""
    clip = work / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=s=320x180:r=24:d=1", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(clip)],
        check=True,
    )  # fmt: skip
    head = clip.read_bytes()
    pad = size - len(head)
    if pad < 16:
        raise SystemExit(f"--size-mb is too small for a {len(head)}-byte clip")
    with path.open("wb") as handle:
        handle.write(head)
        if pad < 2**32:
            handle.write(pad.to_bytes(4, "big") + b"free")
        else:  # a box over 4 GiB says so with size 1 and a 64-bit size after its type
            handle.write((1).to_bytes(4, "big") + b"free" + pad.to_bytes(8, "big"))
        handle.truncate(size)  # the rest reads as zeros and takes no disk


@dataclass
class BrowserRun:
    seconds: float
    puts: list[int] = field(default_factory=list)
    parts: int = 0
    put_seconds: float = 0.0
    sign_seconds: float = 0.0
    complete_seconds: float = 0.0
    errors: int = 0  # upload errors the page saw (and recovered from)

    @property
    def resent(self) -> int:
        return len(self.puts) - len(set(self.puts))


class Site:
    """gunicorn with the project's config and one worker, and the bench's superuser."""

    def __init__(self, work: Path, env: dict[str, str], port: int) -> None:
        self.env, self.port, self.work = env, port, work
        self.url = f"http://127.0.0.1:{port}"
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        self.manage_shell(
            "from users_app.models import User; "
            f"User.objects.create_superuser(email='{EMAIL}', password='{PASSWORD}')"
        )
        self.process = subprocess.Popen(
            [str(Path(python).parent / "gunicorn"), "affea.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / "gunicorn.log").open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {work / 'gunicorn.log'}")
            time.sleep(0.2)
        self.worker = gunicorn_worker_pid(self.process.pid)

    def manage_shell(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def new_film(self, number: int) -> int:
        out = self.manage_shell(
            "from content_app.models import Film; "
            f"print(Film.objects.create(title='Bench {number}', slug='bench-{number}').pk)"
        )
        return int(out.strip().splitlines()[-1])

    def film_source(self, pk: int) -> str:
        out = self.manage_shell(
            "from content_app.models import Film; "
            f"print(Film.objects.get(pk={pk}).source.name or '-')"
        )
        return out.strip().splitlines()[-1]

    def stop(self) -> None:
        stop_process(self.process, timeout=30)


_UPLOAD_CLOCK = """() => {
  const uppy = document.querySelector('[data-film-uploader]').uppy;
  window.__bench = {errors: 0};
  uppy.on('upload', () => { window.__bench.start = performance.now(); });
  uppy.on('upload-success', () => { window.__bench.end = performance.now(); });
  uppy.on('upload-error', (f, e) => { window.__bench.error = String(e); window.__bench.errors++; });
}"""


def browser_upload(
    browser: Any,
    site: Site,
    path: Path,
    film: int,
    *,
    part: int,
    interrupt: bool,
    on_ready: Callable[[], None] | None = None,
) -> BrowserRun:
    """Sign in, open the film's page, upload `path` with Uppy; time it in the page.

    `on_ready` runs once the page is loaded, just before the upload starts.
    """
    context = browser.new_context()
    context.set_default_timeout(60_000)
    tab = context.new_page()
    puts: list[int] = []
    # Seconds inside part PUTs, sign requests, and the completion (with the server's check).
    spent = {"put": 0.0, "sign": 0.0, "complete": 0.0}

    def sent(request: Any) -> None:
        if request.method == "PUT" and "partNumber=" in request.url:
            puts.append(int(parse_qs(urlsplit(request.url).query)["partNumber"][0]))

    def finished(request: Any) -> None:
        if request.method == "PUT":
            kind = "put"
        elif request.method == "POST" and "/complete?" in request.url:
            kind = "complete"
        else:
            kind = "sign" if _SIGN.search(request.url) else ""
        if kind:
            spent[kind] += request.timing["responseEnd"] / 1000

    tab.on("request", sent)
    tab.on("requestfinished", finished)
    try:
        tab.goto(f"{site.url}/admin/login/")
        tab.fill("#id_username", EMAIL)
        tab.fill("#id_password", PASSWORD)
        tab.click("input[type=submit]")
        tab.wait_for_url(re.compile(r".*/admin/$"))
        tab.goto(f"{site.url}/admin/content_app/film/{film}/change/")
        tab.evaluate(_UPLOAD_CLOCK)
        tab.set_input_files(".uppy-Dashboard-input >> nth=0", str(path))
        if on_ready:
            on_ready()
        tab.click(".uppy-StatusBar-actionBtn--upload")
        if interrupt:
            tab.wait_for_function(
                "() => (document.querySelector('[data-film-uploader]').uppy.getFiles()[0]"
                ".progress.percentage || 0) >= 50",
                polling=50,
                timeout=0,
            )
            context.set_offline(True)
            tab.wait_for_timeout(OFFLINE_SECONDS * 1000)
            context.set_offline(False)
        # A dropped connection fails the part in flight and the page retries it: only a
        # success ends the run (or a refusal, which the page shows in its message).
        tab.wait_for_function(
            "() => window.__bench.end || document.querySelector("
            "'.film-uploader-message[data-kind=error]')",
            polling=100,
            timeout=0,
        )
        clock = tab.evaluate("() => window.__bench")
        if not clock.get("end"):
            message = tab.inner_text(".film-uploader-message")
            raise RuntimeError(f"the browser upload failed: {clock.get('error')} ({message})")
    finally:
        context.close()
    return BrowserRun(
        seconds=(clock["end"] - clock["start"]) / 1000,
        puts=puts,
        parts=-(-path.stat().st_size // part),
        put_seconds=spent["put"],
        sign_seconds=spent["sign"],
        complete_seconds=spent["complete"],
        errors=int(clock["errors"]),
    )


_BARE_PUTS = """async ({urls, part}) => {
  const file = document.getElementById('bench-file').files[0];
  const started = performance.now();
  const etags = [];
  for (let i = 0; i < urls.length; i++) {
    const body = file.slice(i * part, Math.min((i + 1) * part, file.size));
    etags.push(await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', urls[i]);
      xhr.onload = () => resolve(xhr.getResponseHeader('ETag'));
      xhr.onerror = () => reject(new Error('PUT failed'));
      xhr.send(body);
    }));
  }
  return {seconds: (performance.now() - started) / 1000, etags};
}"""


def browser_bare(browser: Any, site: Site, seaweed: Any, path: Path, *, part: int) -> float:
    """Chromium alone: the same parts PUT one after another with plain XHR, no Uppy, no
    sign requests (boto3 presigns them all first): the browser's own ceiling here."""
    client, key = seaweed.client(), "bench/bare.mp4"
    count = -(-path.stat().st_size // part)
    upload_id = client.create_multipart_upload(Bucket=seaweed.bucket, Key=key)["UploadId"]
    urls = [
        client.generate_presigned_url(
            "upload_part",
            Params={"Bucket": seaweed.bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
            ExpiresIn=3600,
        )
        for n in range(1, count + 1)
    ]
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{site.url}/admin/login/")  # an origin the bucket's CORS rule allows
        tab.evaluate(
            "() => { const i = document.createElement('input'); i.type = 'file';"
            " i.id = 'bench-file'; document.body.append(i); }"
        )
        tab.set_input_files("#bench-file", str(path))
        result = tab.evaluate(_BARE_PUTS, {"urls": urls, "part": part})
    finally:
        context.close()
    client.complete_multipart_upload(
        Bucket=seaweed.bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(result["etags"], 1)]
        },
    )
    if client.head_object(Bucket=seaweed.bucket, Key=key)["ContentLength"] != path.stat().st_size:
        raise RuntimeError("the bare browser upload stored the wrong size")
    _drop(seaweed, key)
    return float(result["seconds"])


def boto3_upload(seaweed: Any, path: Path, key: str, *, chunk: int, threads: int) -> float:
    from boto3.s3.transfer import TransferConfig

    client = seaweed.client()
    config = TransferConfig(
        multipart_threshold=8 * MIB,
        multipart_chunksize=chunk,
        max_concurrency=threads,
        use_threads=threads > 1,
    )
    started = time.perf_counter()
    client.upload_file(str(path), seaweed.bucket, key, Config=config)
    seconds = time.perf_counter() - started
    size = client.head_object(Bucket=seaweed.bucket, Key=key)["ContentLength"]
    if size != path.stat().st_size:
        raise RuntimeError(f"boto3 stored {size} bytes of {path.stat().st_size}")
    client.delete_object(Bucket=seaweed.bucket, Key=key)
    return seconds


def _runs(seconds: list[float]) -> str:
    return "runs " + ", ".join(f"{s:.1f}" for s in seconds) + " s"


def _drop(seaweed: Any, key: str) -> None:
    seaweed.client().delete_object(Bucket=seaweed.bucket, Key=key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=2048, help="file size for (a) and (b)")
    parser.add_argument("--runs", type=int, default=1, help="rounds; medians are printed")
    parser.add_argument("--part-mb", type=int, default=16, help="UPLOAD_PART_SIZE in MiB")
    parser.add_argument("--interrupt-size-mb", type=int, default=512, help="file size for (c)")
    parser.add_argument(
        "--split-cpus",
        action="store_true",
        help="storage and web on the first core, the clients on the others",
    )
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if args.split_cpus and len(cores) < 2:
        raise SystemExit("--split-cpus needs two cores")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    part = args.part_mb * MIB
    work = Path(tempfile.mkdtemp(prefix="affea-upload-bench-"))
    redis_port, port = free_port(), free_port()
    redis_server = start_redis(port=redis_port)  # private: no worker takes its jobs
    seaweed = start_seaweed(
        work / "seaweed",
        bucket="affea-upload",
        access_key="k-bench",
        secret_key="s-bench",
        cors_origins=[f"http://127.0.0.1:{port}"],
    )
    (work / "static").mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "affea.settings",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": seaweed.endpoint_url,
        "S3_BUCKET": seaweed.bucket,
        "S3_ACCESS_KEY_ID": seaweed.access_key,
        "S3_SECRET_ACCESS_KEY": seaweed.secret_key,
        "S3_ADDRESSING_STYLE": "path",
        "STATIC_ROOT": str(work / "static"),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "UPLOAD_PART_SIZE": str(part),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
    }
    site: Site | None = None
    try:
        big, small, warm = work / "big.mp4", work / "interrupted.mp4", work / "warm.mp4"
        make_video(big, args.size_mb * MIB, work)
        make_video(warm, 32 * MIB, work)
        make_video(small, args.interrupt_size_mb * MIB, work)
        site = Site(work, env, port)
        if args.split_cpus:
            servers = [seaweed.process.pid, redis_server.pid, site.process.pid]
            pin([p for pid in servers for p in process_tree(pid)], {cores[0]})
            pin([os.getpid()], set(cores[1:]))  # Playwright and Chromium inherit it
        from playwright.sync_api import sync_playwright

        browser_s: list[float] = []
        cli_s: list[float] = []
        serial_s: list[float] = []
        bare_s: list[float] = []
        put_s: list[float] = []  # of browser_s: inside part PUTs, inside sign requests
        sign_s: list[float] = []
        complete_s: list[float] = []
        interrupted: list[BrowserRun] = []
        size_mb = big.stat().st_size / 1e6
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
            )
            # First use costs the worker memory once (its S3 client, the check's code): a
            # small direct upload pays it, so what follows shows what the file size adds.
            hwm: dict[str, int] = {}

            def page_loaded() -> None:
                hwm["cold"] = status_kb(site.worker, "VmHWM")

            print("warm-up upload...", flush=True)
            browser_upload(
                browser, site, warm, site.new_film(0), part=part, interrupt=False,
                on_ready=page_loaded,
            )  # fmt: skip
            hwm["before"] = status_kb(site.worker, "VmHWM")
            watch = RssWatch(site.worker)
            watch.start()
            for round_ in range(1, args.runs + 1):
                print(f"round {round_}/{args.runs}: browser, boto3...", flush=True)
                film = site.new_film(round_)
                run = browser_upload(browser, site, big, film, part=part, interrupt=False)
                if run.resent or len(run.puts) != run.parts:
                    raise RuntimeError(f"an uninterrupted upload sent parts {run.puts}")
                key = site.film_source(film)
                stored = seaweed.client().head_object(Bucket=seaweed.bucket, Key=key)
                if stored["ContentLength"] != big.stat().st_size:
                    raise RuntimeError(f"the film's source {key} is not the whole file")
                _drop(seaweed, key)
                browser_s.append(run.seconds)
                put_s.append(run.put_seconds)
                sign_s.append(run.sign_seconds)
                complete_s.append(run.complete_seconds)
                cli_s.append(boto3_upload(seaweed, big, "bench/cli.mp4", chunk=8 * MIB, threads=10))
                serial_s.append(boto3_upload(seaweed, big, "bench/one.mp4", chunk=part, threads=1))
                bare_s.append(browser_bare(browser, site, seaweed, big, part=part))
            watch.stop.set()
            watch.join()
            hwm["after"] = status_kb(site.worker, "VmHWM")
            for round_ in range(1, args.runs + 1):
                print(f"interrupted upload {round_}/{args.runs}...", flush=True)
                film = site.new_film(100 + round_)
                run = browser_upload(browser, site, small, film, part=part, interrupt=True)
                _drop(seaweed, site.film_source(film))
                interrupted.append(run)
            browser.close()

        browser_rate = size_mb / statistics.median(browser_s)
        cli_rate = size_mb / statistics.median(cli_s)
        serial_rate = size_mb / statistics.median(serial_s)
        bare_rate = size_mb / statistics.median(bare_s)
        print()
        cpus = (
            "storage and web on one core, clients on the rest"
            if args.split_cpus
            else "all processes on all cores"
        )
        print(f"file: {size_mb:.0f} MB (MP4), parts of {args.part_mb} MiB, "
              f"{args.runs} round(s), medians; {cpus}; "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"(a) Chromium + Uppy through the admin: {browser_rate:.0f} MB/s "
              f"({_runs(browser_s)}, incl. the server's check)")  # fmt: skip
        print(f"    of which inside part PUTs {statistics.median(put_s):.1f} s, sign requests "
              f"{statistics.median(sign_s):.1f} s, completion and check "
              f"{statistics.median(complete_s):.1f} s (medians)")  # fmt: skip
        print(f"    boto3 upload_file, aws s3 cp defaults (8 MiB, 10 threads): "
              f"{cli_rate:.0f} MB/s ({_runs(cli_s)})")  # fmt: skip
        print(f"    boto3 upload_file, {args.part_mb} MiB parts, one thread: "
              f"{serial_rate:.0f} MB/s ({_runs(serial_s)})")  # fmt: skip
        print(f"    Chromium alone, plain XHR PUTs of the same parts in turn: "
              f"{bare_rate:.0f} MB/s ({_runs(bare_s)})")  # fmt: skip
        ratio = browser_rate / cli_rate
        print(f"    browser / aws s3 cp-style = {ratio:.2f} (goal >= {RATIO_GOAL}): "
              f"{'OK' if ratio >= RATIO_GOAL else 'UNDER'}; "
              f"browser / one-thread boto3 = {browser_rate / serial_rate:.2f}")  # fmt: skip
        mb = {k: round(v / 1024) for k, v in hwm.items()}
        print(f"(b) web worker VmHWM: {mb['cold']} MB with the admin page loaded, "
              f"{mb['before']} MB after a {warm.stat().st_size / 1e6:.0f} MB warm-up upload, "
              f"{mb['after']} MB after {args.runs} direct upload(s) of {size_mb:.0f} MB "
              f"(largest RSS during them {watch.peak_kb / 1024:.0f} MB)")  # fmt: skip
        resent = [r.resent for r in interrupted]
        print(f"(c) offline for {OFFLINE_SECONDS} s at half of a "
              f"{small.stat().st_size / 1e6:.0f} MB upload ({interrupted[0].parts} parts): "
              f"parts sent again {statistics.median(resent):g} (runs {resent}); "
              f"PUTs per run {[len(r.puts) for r in interrupted]}, upload errors the page "
              f"recovered from {[r.errors for r in interrupted]}")  # fmt: skip
        print(json.dumps({
            "browser_mb_s": round(browser_rate, 1), "cli_mb_s": round(cli_rate, 1),
            "serial_mb_s": round(serial_rate, 1), "bare_mb_s": round(bare_rate, 1),
            "ratio": round(ratio, 3), "split_cpus": args.split_cpus,
            "hwm_mb": mb, "rss_during_mb": round(watch.peak_kb / 1024), "resent": resent,
        }))  # fmt: skip
    finally:
        if site is not None:
            site.stop()
        seaweed.stop()
        stop_process(redis_server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
