"""Temp dirs of killed steps are removed; those of steps still running are kept."""

from __future__ import annotations

import os
import subprocess

from content_app.pipeline.workspaces import workspace_prefix, workspaces_clean


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
