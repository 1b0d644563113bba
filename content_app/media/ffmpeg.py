"""FFmpeg argument lists for renditions and images, and a runner that reports progress."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from content_app.media.errors import MediaError, explain_ffmpeg_failure
from content_app.media.ladder import Rung

KEYFRAME_SECONDS = 2
HLS_SEGMENT_SECONDS = 4
PLAYLIST_NAME = "index.m3u8"
MEDIA_NAME = "media.mp4"
THUMBNAIL_WIDTH = 640
POSTER_WIDTH = 1280


def ffmpeg_timeout(duration: float | None, *, height: int = 1080) -> int:
    """Seconds an FFmpeg run over a source of `duration` may take before it is killed.

    Generous (10x real time at 1080p on a slow core) because a killed run is wasted work,
    but finite so a wedged FFmpeg cannot hold a worker forever.
    """
    if not duration:
        return 3600
    factor = 2 + 8 * min(height, 1080) / 1080
    return int(120 + duration * factor)


def _input(source: Path) -> list[str]:
    # Only local files may be read: a crafted playlist in an upload cannot make FFmpeg
    # fetch URLs or read other files through concat/subfile tricks.
    return ["-protocol_whitelist", "file", "-i", str(source)]


def _base() -> list[str]:
    return [settings.FFMPEG_BINARY, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]


def video_encoding_args(rung: Rung) -> list[str]:
    """Return the libx264/AAC options of one rung (shared by the pipeline and the benchmark)."""
    return [
        "-c:v", "libx264",
        "-preset", settings.FFMPEG_PRESET,
        "-profile:v", "high",
        "-level:v", "4.2",
        "-pix_fmt", "yuv420p",
        "-crf", "23",
        "-maxrate", f"{rung.maxrate_kbps}k",
        "-bufsize", f"{rung.bufsize_kbps}k",
        # Keyframes at fixed times in every rung, and none elsewhere, so segment
        # boundaries line up across renditions and players can switch between them.
        "-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_SECONDS})",
        "-sc_threshold", "0",
        "-c:a", "aac",
        "-ac", "2",
        "-ar", "48000",
        "-b:a", f"{rung.audio_kbps}k",
    ]  # fmt: skip


def hls_output_args(out_dir: Path) -> list[str]:
    """Package as one fragmented MP4 plus a byte-range VOD playlist in `out_dir`."""
    return [
        "-f", "hls",
        "-hls_time", str(HLS_SEGMENT_SECONDS),
        "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4",
        "-hls_flags", "single_file",
        "-hls_segment_filename", str(out_dir / MEDIA_NAME),
        str(out_dir / PLAYLIST_NAME),
    ]  # fmt: skip


def scale_filter(rung: Rung) -> str:
    return f"scale={rung.width}:{rung.height}:flags=bicubic,setsar=1"


def rendition_args(source: Path, out_dir: Path, rung: Rung, *, progress: bool = True) -> list[str]:
    """Build the whole FFmpeg command of one rendition."""
    args = _base()
    if progress:
        args += ["-nostats", "-progress", "pipe:1"]
    args += _input(source)
    args += ["-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1"]
    args += ["-vf", scale_filter(rung), "-fpsmax", "60", "-max_muxing_queue_size", "1024"]
    args += video_encoding_args(rung)
    args += hls_output_args(out_dir)
    return args


def image_args(source: Path, out_dir: Path, *, at_seconds: float) -> list[str]:
    """Build the command writing thumbnail.jpg and poster.jpg from one frame at `at_seconds`."""
    return [
        *_base(),
        "-ss", f"{at_seconds:.3f}",
        *_input(source),
        "-filter_complex",
        f"[0:v:0]split=2[a][b];[a]scale={THUMBNAIL_WIDTH}:-2[t];[b]scale={POSTER_WIDTH}:-2[p]",
        "-map", "[t]", "-frames:v", "1", "-q:v", "3", str(out_dir / "thumbnail.jpg"),
        "-map", "[p]", "-frames:v", "1", "-q:v", "3", str(out_dir / "poster.jpg"),
    ]  # fmt: skip


def parse_progress_line(line: str, duration: float | None) -> float | None:
    """Return the fraction done (0-1) that one `-progress` line reports, if it reports one."""
    key, _, value = line.strip().partition("=")
    if key == "progress" and value == "end":
        return 1.0
    if key not in ("out_time_us", "out_time_ms") or not duration:
        return None
    try:
        # Both keys are in microseconds (FFmpeg's historic misnaming of out_time_ms).
        seconds = int(value) / 1_000_000
    except ValueError:
        return None
    return max(0.0, min(1.0, seconds / duration))


def run_ffmpeg(
    args: list[str],
    *,
    timeout: int,
    duration: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> None:
    """Run FFmpeg (never through a shell); raise MediaError with its reason when it fails."""
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stderr_chunks: list[bytes] = []
    # stderr is drained beside stdout, or a chatty FFmpeg would block on a full pipe.
    drain = threading.Thread(
        target=lambda: stderr_chunks.append(process.stderr.read() if process.stderr else b""),
        daemon=True,
    )
    drain.start()
    timed_out = threading.Event()

    def _stop() -> None:
        timed_out.set()
        process.kill()

    killer = threading.Timer(timeout, _stop)
    killer.start()
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            fraction = parse_progress_line(raw.decode("ascii", "replace"), duration)
            if fraction is not None and on_progress is not None:
                on_progress(fraction)
        returncode = process.wait()
    finally:
        killer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        drain.join(timeout=5)
    if timed_out.is_set():
        raise MediaError(f"FFmpeg did not finish within {timeout} s and was stopped.")
    if returncode != 0:
        stderr = b"".join(stderr_chunks).decode("utf-8", "replace")
        raise MediaError(explain_ffmpeg_failure(stderr))
