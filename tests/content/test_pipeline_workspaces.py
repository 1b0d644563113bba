"""Temp dirs of killed steps are removed, those of steps still running kept; a worker's
steps share one local copy of a source."""

from __future__ import annotations

import os
import shutil
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
    """The temp dir workers keep source copies in; steps' own dirs are beside it."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


SOURCE = "films/a/source-1.mp4"


def _step(root: Path, calls: list[str], data: bytes, *, key: str = SOURCE, film_id: int = 3):
    """A step's use of the source `key`: its own dir, the source in it (`data` if downloaded)."""

    def download(path: Path) -> None:
        calls.append(key)
        path.write_bytes(data)

    workspace = Path(tempfile.mkdtemp(dir=root.parent))
    return local_source(
        film_id=film_id, key=key, name=f"source{Path(key).suffix}", download=download,
        workspace=workspace,
    )  # fmt: skip


def _kept(root: Path) -> list[str]:
    return [path.name for path in root.iterdir()]


def test_the_steps_of_a_source_share_one_download(temp_root):
    calls: list[str] = []
    with _step(temp_root, calls, b"film") as source:
        assert source.read_bytes() == b"film"
    with _step(temp_root, calls, b"other") as source:
        assert source.read_bytes() == b"film"
    assert calls == [SOURCE]
    (kept,) = _kept(temp_root)
    assert kept.startswith(f"affea-p{os.getpid()}-3-source-")


def test_another_source_replaces_the_copy_kept(temp_root):
    calls: list[str] = []
    with _step(temp_root, calls, b"old"):
        (old,) = _kept(temp_root)
    with _step(temp_root, calls, b"new", key="films/b/source-2.mov", film_id=4) as source:
        assert source.read_bytes() == b"new"
        assert source.name == "source.mov"
    (new,) = _kept(temp_root)
    assert new != old
    assert new.startswith(f"affea-p{os.getpid()}-4-source-")


def test_a_copy_cut_off_while_downloading_is_downloaded_again(temp_root, tmp_path):
    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise ConnectionError("storage went away")

    with (
        pytest.raises(ConnectionError),
        local_source(film_id=3, key=SOURCE, name="source.mp4", download=broken, workspace=tmp_path),
    ):
        pass
    assert _kept(temp_root) == []  # the half copy takes no disk
    calls: list[str] = []
    with _step(temp_root, calls, b"whole") as source:
        assert source.read_bytes() == b"whole"
    assert calls == [SOURCE]


def test_a_step_reads_on_when_the_kept_copy_is_removed_meanwhile(temp_root):
    # A job process outliving its killed worker: the next worker removes the dead one's copy.
    with _step(temp_root, [], b"film") as source:
        for name in _kept(temp_root):
            shutil.rmtree(temp_root / name)
        assert source.read_bytes() == b"film"


def test_a_copy_counts_as_used_until_its_step_ends(temp_root):
    # A step longer than KEEP_SOURCE_SECONDS (a feature's ladder) ends with a fresh copy.
    with _step(temp_root, [], b"film"):
        (kept,) = _kept(temp_root)
        past = time.time() - KEEP_SOURCE_SECONDS - 1
        os.utime(temp_root / kept / "key", (past, past))
    assert sources_expire() == []
    assert _kept(temp_root) == [kept]


def test_a_copy_unused_for_a_while_is_removed_and_a_recent_one_kept(temp_root):
    with _step(temp_root, [], b"film"):
        pass
    assert sources_expire() == []
    (kept,) = _kept(temp_root)
    past = time.time() - KEEP_SOURCE_SECONDS - 1
    os.utime(temp_root / kept / "key", (past, past))
    assert sources_expire() == [temp_root / kept]
    assert _kept(temp_root) == []


def test_the_copy_of_a_dead_worker_is_removed(temp_root):
    dead = subprocess.Popen(["true"])
    dead.wait()
    kept = temp_root / f"affea-p{dead.pid}-3-source-abc"
    kept.mkdir()
    (kept / "source.mp4").write_bytes(b"x")
    assert workspaces_clean() == [kept]
