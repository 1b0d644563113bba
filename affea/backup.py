"""Backups: a pg_dump of the database plus a manifest of the bucket, and their check.

pg_dump reads the whole database in one snapshot, so the dump is consistent without
stopping anything. Objects are not copied: their keys are never reused (films/<uuid>/…),
and the bucket is protected by its own versioning or replication; the manifest records
what it held right after the dump so a restore can prove every row still has its objects.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import FileField
from django.utils import timezone

from affea.errors import DomainError
from affea.storage import s3_client

MANIFEST = "manifest.json"
DUMP = "database.dump"
MANIFEST_VERSION = 1


def _pg_env() -> dict[str, str]:
    """libpq's variables for the default database: no password on a command line."""
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise DomainError("Backups need PostgreSQL (DATABASE_URL=postgres://…).")
    values = {
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
        "PGPASSWORD": db.get("PASSWORD") or "",
        "PGDATABASE": db["NAME"],
    }
    return {**os.environ, **{name: value for name, value in values.items() if value}}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DomainError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def bucket_objects() -> dict[str, int]:
    """Every object in storage now: key → size in bytes."""
    if settings.STORAGE_BACKEND == "s3":
        paginator = s3_client().get_paginator("list_objects_v2")
        found: dict[str, int] = {}
        for page in paginator.paginate(Bucket=settings.AWS_STORAGE_BUCKET_NAME):
            found.update((item["Key"], item["Size"]) for item in page.get("Contents", []))
        return found
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BackupResult:
    dump_bytes: int
    objects: int


def backup_create(*, directory: Path) -> BackupResult:
    """Dump the database into `directory` (new or empty), then write the manifest."""
    if directory.exists() and any(directory.iterdir()):
        raise DomainError(f"{directory} is not empty: a backup never overwrites another.")
    directory.mkdir(parents=True, exist_ok=True)
    started = timezone.now()
    dump = directory / DUMP
    done = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"],
        env=_pg_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DomainError(f"pg_dump failed: {done.stderr.strip()}")
    # Listed after the dump: every key its rows name was written before their commit.
    objects = bucket_objects()
    manifest: dict[str, object] = {
        "version": MANIFEST_VERSION,
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "database": {
            "file": DUMP,
            "format": "pg_dump custom",
            "bytes": dump.stat().st_size,
            "sha256": _sha256(dump),
        },
        "storage": {
            "backend": settings.STORAGE_BACKEND,
            "bucket": settings.AWS_STORAGE_BUCKET_NAME if settings.STORAGE_BACKEND == "s3" else "",
            "objects": dict(sorted(objects.items())),
        },
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return BackupResult(dump_bytes=dump.stat().st_size, objects=len(objects))


def referenced_keys() -> Iterator[tuple[str, str]]:
    """(row label, storage key) for every object a row of the database points to."""
    from content_app.models import Rendition
    from content_app.pipeline.storage import rendition_keys

    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, FileField)]
        if not fields or not model._meta.managed or model._meta.proxy:
            continue
        for row in model._default_manager.only("pk", *fields).iterator():
            for name in fields:
                key = getattr(row, name).name
                if key:
                    yield f"{model._meta.label} {row.pk} {name}", key
    for rendition in Rendition.objects.only("pk", "media_key", "playlist_key").iterator():
        for key in rendition_keys([rendition]):
            yield f"content_app.Rendition {rendition.pk}", key


@dataclass(frozen=True)
class CheckResult:
    checked: int
    problems: list[str]


def backup_check(*, directory: Path) -> CheckResult:
    """Check the dump against its checksum, and every row's objects against manifest and bucket."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    problems: list[str] = []
    dump = directory / manifest["database"]["file"]
    if not dump.exists() or _sha256(dump) != manifest["database"]["sha256"]:
        problems.append(f"{dump.name} is missing or does not match the manifest's checksum")
    listed: dict[str, int] = manifest["storage"]["objects"]
    present = bucket_objects()
    checked = 0
    for label, key in referenced_keys():
        checked += 1
        if key not in listed:
            problems.append(f"{label}: {key} is not in the manifest")
        elif present.get(key) != listed[key]:
            state = "missing" if key not in present else f"{present[key]} bytes, not {listed[key]}"
            problems.append(f"{label}: {key} is {state} in storage")
    return CheckResult(checked=checked, problems=problems)
