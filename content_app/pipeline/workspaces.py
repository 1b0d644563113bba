"""Temp dirs of steps: named for the process that owns them, removed once it is gone.

A step's own dir (its outputs) belongs to the job process running it. The local copy of
a source belongs to the worker: its steps run one after another in job processes it
forks, so the next step of the same film (the probe, the lowest rung, the images, the
ladder) reads the copy the previous one downloaded instead of downloading the source
again (a festival master is gigabytes). A worker keeps one copy, replaced when a step
needs another source and removed once no step has used it for KEEP_SOURCE_SECONDS; source keys are
unique per upload, so a copy is never stale.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

WORKSPACE_PREFIX = "affea-"
_OWNED = re.compile(rf"^{WORKSPACE_PREFIX}p(\d+)-\d+-")
# Steps' dirs from before they carried their owner ("affea-<film>-<step>-"): only an old
# one is surely stale. Other "affea-*" dirs (benchmarks, tests) are not ours to remove.
_UNOWNED = re.compile(rf"^{WORKSPACE_PREFIX}\d+-")
_UNOWNED_STALE_SECONDS = 6 * 3600
KEEP_SOURCE_SECONDS = 120
_KEY_FILE = "key"
# The worker whose job processes share a source copy; unset outside a worker (a burst
# worker running jobs in its own process keeps the copy itself).
_keeper: int | None = None


def workspace_prefix(film_id: int, step: str) -> str:
    return f"{WORKSPACE_PREFIX}p{os.getpid()}-{film_id}-{step}-"


def keep_sources_for_this_process() -> None:
    """Called by a worker before it forks job processes: they keep sources in its name."""
    global _keeper
    _keeper = os.getpid()


def _kept_dirs(base: Path) -> list[Path]:
    return list(base.glob(f"{WORKSPACE_PREFIX}p{_keeper or os.getpid()}-*-source-*"))


@contextmanager
def local_source(
    *, film_id: int, key: str, name: str, download: Callable[[Path], None], workspace: Path
) -> Iterator[Path]:
    """Give `workspace/name`: source object `key`, hard-linked to the copy this worker
    keeps (downloaded with `download(path)` unless it holds it already).

    The link is the step's own: if the kept copy goes meanwhile (a job process outliving
    its killed worker, whose copy the next worker removes), the step reads on.
    """
    base = Path(tempfile.gettempdir())
    source = workspace / name
    kept = _kept_copy(base, key, name)
    try:
        if kept is None:
            raise FileNotFoundError(key)
        os.link(kept, source)
    except FileNotFoundError:
        kept = _download_copy(base, film_id, key, name, download)
        os.link(kept, source)
    try:
        yield source
    finally:
        # Used until now: a long step (a feature's ladder) does not make it look idle.
        with suppress(FileNotFoundError):
            (kept.parent / _KEY_FILE).touch()


def _kept_copy(base: Path, key: str, name: str) -> Path | None:
    for directory in _kept_dirs(base):
        marker = directory / _KEY_FILE
        if marker.is_file() and marker.read_text() == key and (directory / name).is_file():
            return directory / name
        shutil.rmtree(directory, ignore_errors=True)  # one copy at most: another source's
    return None


def _download_copy(
    base: Path, film_id: int, key: str, name: str, download: Callable[[Path], None]
) -> Path:
    prefix = f"{WORKSPACE_PREFIX}p{_keeper or os.getpid()}-{film_id}-source-"
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    # Marked only once whole: a copy cut off by a killed step is downloaded again.
    partial = directory / "downloading"
    try:
        download(partial)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # a failed download takes no disk
        raise
    partial.rename(directory / name)
    (directory / _KEY_FILE).write_text(key)
    return directory / name


def sources_expire(
    *, unused_for: float = KEEP_SOURCE_SECONDS, root: Path | None = None
) -> list[Path]:
    """Remove this worker's source copy once unused for `unused_for` seconds (0: now)."""
    removed: list[Path] = []
    for directory in _kept_dirs(root or Path(tempfile.gettempdir())):
        marker = directory / _KEY_FILE
        used = marker.stat().st_mtime if marker.exists() else directory.stat().st_mtime
        if time.time() - used >= unused_for:
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def workspaces_clean(root: Path | None = None) -> list[Path]:
    """Remove the temp dirs of steps whose process died (SIGKILL skips their own clean-up)."""
    base = root or Path(tempfile.gettempdir())
    removed: list[Path] = []
    for path in base.glob(f"{WORKSPACE_PREFIX}*"):
        if not path.is_dir():
            continue
        owner = _OWNED.match(path.name)
        if owner:
            stale = not _alive(int(owner[1]))
        elif _UNOWNED.match(path.name):
            stale = time.time() - path.stat().st_mtime > _UNOWNED_STALE_SECONDS
        else:
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
