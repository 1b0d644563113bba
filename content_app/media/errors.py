"""Failures of media processing that no retry can fix."""

from __future__ import annotations

import re

from affea.errors import DomainError


class MediaError(DomainError):
    """The source cannot be turned into renditions; `message` says why in plain words."""

    default_message = "The video could not be processed."


# FFmpeg's own wording of the common failures, and what a staff editor should read instead.
_KNOWN_REASONS: tuple[tuple[str, str], ...] = (
    ("moov atom not found", "The file is incomplete or damaged: its index (moov atom) is missing."),
    (
        "Invalid data found when processing input",
        "The file is not a video Affea can read (FFmpeg: invalid data found).",
    ),
    ("does not contain any stream", "The file contains no audio or video streams."),
    (
        "not on whitelist",
        "The file is not a video Affea can read (a playlist or a format Affea does not accept).",
    ),
    ("Invalid argument", "FFmpeg could not read the file (invalid argument)."),
    ("Permission denied", "The file could not be read (permission denied)."),
    ("Input/output error", "The file is incomplete or damaged: it ends before its data does."),
    ("End of file", "The file is incomplete or damaged: it ends before its data does."),
)

_NOISE = re.compile(r"^\s*(Last message repeated|\[.*\] (?:Stream|Metadata|Side data))")
# FFmpeg names the worker's files and its own objects ("[mov,mp4 @ 0x55d…] "): staff read
# neither, and paths tell anyone who sees the message how the worker is laid out.
_PATH = re.compile(r"(?<![\w.])/[^\s:'\"]+")
_CONTEXT = re.compile(r"\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*")


def explain_ffmpeg_failure(stderr: str, *, tool: str = "FFmpeg") -> str:
    """Turn FFmpeg's stderr into one human-readable sentence naming the cause."""
    for needle, reason in _KNOWN_REASONS:
        if needle.lower() in stderr.lower():
            return reason
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not _NOISE.match(line)]
    if not lines:
        return f"{tool} failed without saying why."
    # The last line is where FFmpeg states the error that stopped it.
    last = _PATH.sub("the file", _CONTEXT.sub("", lines[-1]))
    if len(last) > 300:
        last = last[:297] + "..."
    return f"{tool} could not process the file: {last}"
