"""Temp dirs of steps: named for the process that owns them, removed once it is gone."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

WORKSPACE_PREFIX = "affea-"
_OWNED = re.compile(rf"^{WORKSPACE_PREFIX}p(\d+)-\d+-")
# Steps' dirs from before they carried their owner ("affea-<film>-<step>-"): only an old
# one is surely stale. Other "affea-*" dirs (benchmarks, tests) are not ours to remove.
_UNOWNED = re.compile(rf"^{WORKSPACE_PREFIX}\d+-")
_UNOWNED_STALE_SECONDS = 6 * 3600


def workspace_prefix(film_id: int, step: str) -> str:
    return f"{WORKSPACE_PREFIX}p{os.getpid()}-{film_id}-{step}-"


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
