"""`backup` then pg_restore into an empty database: `restore_check` finds every row's objects."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from content_app.models import Film, Rendition
from tests.content.factories import make_film

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restored_url(subprocess_env: dict[str, str]) -> Iterator[str]:
    """An empty database beside the test one, dropped afterwards."""
    parts = urlsplit(subprocess_env["DATABASE_URL"])
    name = f"affea_restore_{uuid.uuid4().hex[:8]}"
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _restore(directory: Path, url: str) -> None:
    """The documented restore: pg_restore of the dump into an empty database."""
    subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={url}", str(directory / "database.dump")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_has_every_object_its_rows_point_to(
    tmp_path: Path, subprocess_env: dict[str, str], restored_url: str
) -> None:
    films = [make_film(upload=True, thumbnail=True, qualities=("120p",)) for _ in range(2)]
    keys = {str(film.thumbnail.name) for film in films} | {
        key for r in Rendition.objects.all() for key in (r.media_key, r.playlist_key)
    }
    backup = tmp_path / "backup"

    call_command("backup", "--output-dir", str(backup))
    _restore(backup, restored_url)
    checked = _manage(
        "restore_check", str(backup), env={**subprocess_env, "DATABASE_URL": restored_url}
    )

    assert checked.returncode == 0, checked.stderr
    # Two films, each with a thumbnail and one rendition (media and playlist).
    assert "All 6 objects the rows point to are present." in checked.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    for key in keys:
        assert manifest["storage"]["objects"][key] == default_storage.size(key)
    with psycopg.connect(restored_url) as restored:
        titles = restored.execute("SELECT title FROM content_app_film ORDER BY id").fetchall()
    assert [t for (t,) in titles] == [f.title for f in Film.objects.order_by("id")]


@pytest.mark.django_db(transaction=True)
def test_restore_check_names_an_object_lost_from_the_bucket(
    tmp_path: Path, subprocess_env: dict[str, str], restored_url: str
) -> None:
    film = make_film(upload=True, qualities=("120p",))
    lost = Rendition.objects.get(film=film).media_key
    backup = tmp_path / "backup"
    call_command("backup", "--output-dir", str(backup))
    _restore(backup, restored_url)

    default_storage.delete(lost)
    checked = _manage(
        "restore_check", str(backup), env={**subprocess_env, "DATABASE_URL": restored_url}
    )

    assert checked.returncode == 1
    assert f"{lost} is missing in storage" in checked.stderr


@pytest.mark.django_db(transaction=True)
def test_restore_check_finds_a_row_whose_object_the_backup_never_listed(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    call_command("backup", "--output-dir", str(backup))
    film = make_film(upload=True, qualities=("120p",))  # written after the backup
    late = Rendition.objects.get(film=film).playlist_key

    with pytest.raises(CommandError, match=f"{late} is not in the manifest"):
        call_command("restore_check", str(backup))


@pytest.mark.django_db(transaction=True)
def test_restore_check_refuses_a_damaged_dump(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    call_command("backup", "--output-dir", str(backup))
    with (backup / "database.dump").open("ab") as dump:
        dump.write(b"x")

    with pytest.raises(CommandError, match="does not match the manifest's checksum"):
        call_command("restore_check", str(backup))


@pytest.mark.django_db(transaction=True)
def test_backup_never_writes_into_a_used_directory(tmp_path: Path) -> None:
    (tmp_path / "old.dump").write_bytes(b"an older backup")

    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", "--output-dir", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.dump"]
