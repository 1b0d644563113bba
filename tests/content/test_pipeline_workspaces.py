"""Temp dirs of killed steps are removed, those of steps still running kept; a worker's
steps share one local copy of a source."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from content_app.pipeline.workspaces import (
    KEEP_SOURCE_SECONDS,
    local_source,
    sources_expire,
    workspace_prefix,
    workspaces_clean,
)


def test_temp_dir_of_a_dead_process_is_removed_and_a_live_ones_kept(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"affea-p{dead.pid}-7-360p-abc"
    orphan.mkdir()
    (orphan / "source.mp4").write_bytes(b"x" * 1024)
    mine = tmp_path / f"{workspace_prefix(7, '720p')}def"
    mine.mkdir()
    other = tmp_path / "affea-bench-xyz"  # not a step's: left alone
    other.mkdir()
    assert workspaces_clean(tmp_path) == [orphan]
    assert other.exists()
    assert not orphan.exists()
    assert mine.exists()
    assert mine.name.startswith(f"affea-p{os.getpid()}-7-720p-")


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


SOURCE = "films/a/source-1.mp4"


def _copy(data: bytes, calls: list[str], *, key: str = SOURCE, film_id: int = 3) -> Path:
    """The local copy of `key`, downloading `data` (counted in `calls`) if needed."""

    def download(path: Path) -> None:
        calls.append(key)
        path.write_bytes(data)

    with local_source(
        film_id=film_id, key=key, name=f"source{Path(key).suffix}", download=download
    ) as copy:
        return copy


def test_the_steps_of_a_source_share_one_download(temp_root):
    calls: list[str] = []
    first = _copy(b"film", calls)
    again = _copy(b"other", calls)
    assert again == first
    assert first.read_bytes() == b"film"
    assert calls == [SOURCE]
    assert first.parent.name.startswith(f"affea-p{os.getpid()}-3-source-")


def test_another_source_replaces_the_copy_kept(temp_root):
    calls: list[str] = []
    old = _copy(b"old", calls)
    new = _copy(b"new", calls, key="films/b/source-2.mov", film_id=4)
    assert new.read_bytes() == b"new"
    assert new.name == "source.mov"
    assert not old.parent.exists()
    assert [p.name for p in temp_root.iterdir()] == [new.parent.name]


def test_a_copy_cut_off_while_downloading_is_downloaded_again(temp_root):
    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise ConnectionError("storage went away")

    with (
        pytest.raises(ConnectionError),
        local_source(film_id=3, key=SOURCE, name="source.mp4", download=broken),
    ):
        pass
    assert list(temp_root.iterdir()) == []  # the half copy takes no disk
    calls: list[str] = []
    copy = _copy(b"whole", calls)
    assert copy.read_bytes() == b"whole"
    assert calls == [SOURCE]
    assert len(list(temp_root.iterdir())) == 1


def test_a_copy_counts_as_used_until_its_step_ends(temp_root):
    # A step longer than KEEP_SOURCE_SECONDS (a feature's ladder) ends with a fresh copy.
    with local_source(
        film_id=3, key=SOURCE, name="source.mp4", download=lambda p: p.touch()
    ) as copy:
        past = time.time() - KEEP_SOURCE_SECONDS - 1
        os.utime(copy.parent / "key", (past, past))
    assert sources_expire() == []
    assert copy.exists()


def test_a_copy_unused_for_a_while_is_removed_and_a_recent_one_kept(temp_root):
    copy = _copy(b"film", [])
    assert sources_expire() == []
    past = time.time() - KEEP_SOURCE_SECONDS - 1
    os.utime(copy.parent / "key", (past, past))
    assert sources_expire() == [copy.parent]
    assert not copy.parent.exists()


def test_the_copy_of_a_dead_worker_is_removed(temp_root):
    dead = subprocess.Popen(["true"])
    dead.wait()
    kept = temp_root / f"affea-p{dead.pid}-3-source-abc"
    kept.mkdir()
    (kept / "source.mp4").write_bytes(b"x")
    assert workspaces_clean() == [kept]
