"""FFmpeg argument lists for renditions and images, and a runner that reports progress."""

from __future__ import annotations

import errno
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from django.conf import settings

from content_app.media.errors import MediaError, explain_ffmpeg_failure
from content_app.media.ladder import Rung, even_size
from content_app.media.probe import DEMUXERS, ProbeResult

KEYFRAME_SECONDS = 2
HLS_SEGMENT_SECONDS = 4
PLAYLIST_NAME = "index.m3u8"
MEDIA_NAME = "media.mp4"
THUMBNAIL_WIDTH = 640
POSTER_WIDTH = 1280
# Thumbnails and posters, generated or uploaded, are at most this many times as tall as wide.
IMAGE_TALLEST = 2


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
    return ["-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, "-i", str(source)]


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
        # Every rendition is BT.709 SDR, limited range (see picture_filters), and says so.
        "-color_primaries", "bt709",
        "-color_trc", "bt709",
        "-colorspace", "bt709",
        "-color_range", "tv",
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


MAX_FPS = 60
# zscale's names for what ffprobe reports; anything else is taken for BT.2020 (HDR sources).
_ZSCALE_MATRIX = {"bt2020nc": "2020_ncl", "bt2020c": "2020_cl", "bt709": "709"}
_ZSCALE_PRIMARIES = {"bt2020": "2020", "bt709": "709", "smpte432": "smpte432"}
# swscale's names of the source matrix, for SDR sources.
_SWS_MATRIX = {
    "bt709": "bt709", "bt470bg": "bt601", "smpte170m": "smpte170m", "bt2020nc": "bt2020",
    "bt2020c": "bt2020", "fcc": "fcc", "smpte240m": "smpte240m",
}  # fmt: skip


def _tonemap(info: ProbeResult) -> str:
    """PQ/HLG BT.2020 to BT.709 SDR: linearise, map the gamut, tone-map (Hable), re-encode."""
    return (
        f"zscale=tin={info.color_transfer}"
        f":min={_ZSCALE_MATRIX.get(info.color_space, '2020_ncl')}"
        f":pin={_ZSCALE_PRIMARIES.get(info.color_primaries, '2020')}"
        ":rin=tv:t=linear:npl=100,format=gbrpf32le,zscale=p=709,"
        "tonemap=tonemap=hable:desat=0,zscale=t=709:m=709:r=tv,format=yuv420p"
    )


def _source_matrix(info: ProbeResult) -> str:
    # Untagged sources follow the usual convention: HD is BT.709, SD is BT.601.
    default = "bt709" if min(info.coded_width, info.coded_height) >= 720 else "bt601"
    return _SWS_MATRIX.get(info.color_space, default)


def output_frame_rate(info: ProbeResult) -> float | None:
    """The constant rate to resample to, or None to keep the source's (capped by -fpsmax)."""
    if not info.is_variable_frame_rate:
        return None
    return min(info.avg_frame_rate or info.real_frame_rate, MAX_FPS)


def _source_filters(info: ProbeResult | None) -> list[str]:
    """What every rung needs done to the source once: deinterlace, tone-map, a constant rate."""
    if info is None:
        return []
    steps: list[str] = []
    if info.is_interlaced:
        # bwdif is yadif's motion-adaptive successor in FFmpeg; one frame per frame keeps
        # the source's frame rate and the encoder's cost.
        steps.append("bwdif=mode=send_frame:parity=auto:deint=all")
    if info.is_hdr:
        steps.append(_tonemap(info))
    rate = output_frame_rate(info)
    if rate:
        steps.append(f"fps={rate:g}")
    return steps


# From this much smaller on, a picture is made by averaging (swscale's `area`): as sharp as
# bicubic there, whose filter grows with the reduction and is a good part of the lowest
# rung's CPU (the rung that makes a film playable).
_BIG_REDUCTION = 3


def _much_smaller(info: ProbeResult | None, width: int, height: int) -> bool:
    return info is not None and min(info.width, info.height) >= _BIG_REDUCTION * min(width, height)


def _scale(info: ProbeResult | None, width: int, height: int, *, still: bool = False) -> str:
    """Square pixels at `width`x`height`: BT.709 limited range for video; for a `still`
    (JPEG), full range with the BT.601 matrix, which is what every JPEG decoder assumes."""
    if info is None:
        matrix = "auto"
    elif info.is_hdr:
        matrix = "bt709"  # the tone-mapping already wrote BT.709
    else:
        matrix = _source_matrix(info)
    flags = "area" if _much_smaller(info, width, height) else "bicubic"
    out_matrix, out_range = ("bt601", "pc") if still else ("bt709", "tv")
    return (
        f"scale={width}:{height}:flags={flags}:in_color_matrix={matrix}"
        f":out_color_matrix={out_matrix}:in_range=auto:out_range={out_range},setsar=1"
    )


def picture_filters(
    info: ProbeResult | None, width: int, height: int, *, still: bool = False
) -> str:
    """Filters turning the source into a square-pixel, progressive SDR picture of
    `width`x`height` (see _scale for a `still`)."""
    return ",".join([*_source_filters(info), _scale(info, width, height, still=still)])


def ladder_graph(info: ProbeResult | None, sizes: Sequence[tuple[int, int]]) -> str:
    """A filter graph decoding the source once and giving `[v0]`, `[v1]`... one per size.

    Deinterlacing, tone-mapping and rate conversion run once, before the split, so a
    rung more costs its scaling and encoding only.
    """
    head = ",".join(["[0:V:0]null", *_source_filters(info)])
    if len(sizes) == 1:
        return f"{head},{_scale(info, *sizes[0])}[v0]"
    labels = "".join(f"[s{i}]" for i in range(len(sizes)))
    scaled = ";".join(f"[s{i}]{_scale(info, w, h)}[v{i}]" for i, (w, h) in enumerate(sizes))
    return f"{head},split={len(sizes)}{labels};{scaled}"


def ladder_args(
    source: Path,
    outputs: Sequence[tuple[Rung, Path]],
    *,
    info: ProbeResult | None = None,
    progress: bool = True,
) -> list[str]:
    """Build one FFmpeg command writing every (rung, directory) of `outputs` from one decode.

    `info` is the source's probe; without it the picture is only scaled.
    """
    args = _base()
    if progress:
        args += ["-nostats", "-progress", "pipe:1"]
    if all(_much_smaller(info, rung.width, rung.height) for rung, _ in outputs):
        # The deblocking filter's work is lost in a picture a third the size or less, and it
        # is a good part of decoding: the lowest rung, which makes a film playable, is
        # ready sooner without it.
        args += ["-skip_loop_filter", "all"]
    args += _input(source)
    args += ["-filter_complex", ladder_graph(info, [(r.width, r.height) for r, _ in outputs])]
    for index, (rung, out_dir) in enumerate(outputs):
        args += ["-map", f"[v{index}]", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1"]
        args += ["-fpsmax", str(MAX_FPS)]
        # Audio follows the audio timestamps, padded or trimmed at gaps, so it cannot drift
        # from a video resampled to a constant rate.
        args += ["-af", "aresample=async=1:first_pts=0", "-max_muxing_queue_size", "1024"]
        args += video_encoding_args(rung)
        args += hls_output_args(out_dir)
    return args


def rendition_args(
    source: Path,
    out_dir: Path,
    rung: Rung,
    *,
    info: ProbeResult | None = None,
    progress: bool = True,
) -> list[str]:
    """Build the whole FFmpeg command of one rendition (`info`: the source's probe)."""
    return ladder_args(source, [(rung, out_dir)], info=info, progress=progress)


def image_size(width: int, aspect: float) -> tuple[int, int]:
    """An image `width` wide of the picture's `aspect`, at most IMAGE_TALLEST times as tall
    (a narrower one then): a tall source (1:1000) would make a picture no JPEG can hold."""
    height = even_size(width / aspect)
    if height <= IMAGE_TALLEST * width:
        return width, height
    return even_size(IMAGE_TALLEST * width * aspect), IMAGE_TALLEST * width


def image_args(
    source: Path, out_dir: Path, *, at_seconds: float, info: ProbeResult | None = None
) -> list[str]:
    """Build the command writing thumbnail.jpg and poster.jpg from one frame at `at_seconds`."""
    aspect = info.width / info.height if info is not None else 16 / 9
    thumb = picture_filters(info, *image_size(THUMBNAIL_WIDTH, aspect), still=True)
    poster = picture_filters(info, *image_size(POSTER_WIDTH, aspect), still=True)
    return [
        *_base(),
        "-ss", f"{at_seconds:.3f}",
        *_input(source),
        "-filter_complex", f"[0:V:0]split=2[a][b];[a]{thumb}[t];[b]{poster}[p]",
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
        if "No space left on device" in stderr:
            # The worker's disk, not the source: once space is freed (the temp dirs of
            # killed steps go at a worker's start) or on another worker, it can succeed.
            raise OSError(errno.ENOSPC, "No space left on the worker's disk (FFmpeg's output)")
        raise MediaError(explain_ffmpeg_failure(stderr))
