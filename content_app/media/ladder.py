"""Which renditions a source gets, at which size and bitrate."""

from __future__ import annotations

from dataclasses import dataclass

from content_app.models import QUALITY_HEIGHTS, Quality

# Anything smaller cannot be encoded into a useful picture (and H.264 needs even sizes).
MIN_SHORT_SIDE = 16
# The longest displayed side a source may have: 16K, twice 8K and within what x264 encodes.
MAX_DISPLAY_SIDE = 16384


@dataclass(frozen=True)
class Rung:
    quality: str
    width: int
    height: int
    maxrate_kbps: int
    audio_kbps: int

    @property
    def bufsize_kbps(self) -> int:
        # Two seconds of the cap: one GOP, so quality may vary within a segment but not beyond.
        return self.maxrate_kbps * 2


MAXRATE_KBPS: dict[str, int] = {
    Quality.P120: 200,
    Quality.P360: 800,
    Quality.P720: 2800,
    Quality.P1080: 5000,
}
AUDIO_KBPS: dict[str, int] = {
    Quality.P120: 64,
    Quality.P360: 128,
    Quality.P720: 128,
    Quality.P1080: 128,
}


def even_size(value: float, *, at_most: int | None = None) -> int:
    """The even size (at least 2) nearest `value`, never above `at_most` (rounded down to
    even): H.264 in 4:2:0 wants even sides."""
    nearest = round(value / 2) * 2
    if at_most is not None:
        nearest = min(nearest, at_most - at_most % 2)
    return max(2, nearest)


def ladder_for(width: int, height: int) -> list[Rung]:
    """Return the rungs for a source of `width`x`height` (display size), lowest first.

    The rung's nominal height applies to the shorter side, so portrait video gets the
    same quality names as landscape. Rungs above the source are skipped; 120p is always
    made, at the source's own size when the source is smaller still.
    """
    short, long_ = min(width, height), max(width, height)
    rungs: list[Rung] = []
    for quality, nominal in QUALITY_HEIGHTS.items():
        if nominal > short and quality != Quality.P120:
            continue
        out_short = even_size(min(nominal, short), at_most=short)
        out_long = even_size(long_ * out_short / short, at_most=long_)
        out_w, out_h = (out_long, out_short) if width >= height else (out_short, out_long)
        rungs.append(
            Rung(
                quality=quality,
                width=out_w,
                height=out_h,
                maxrate_kbps=MAXRATE_KBPS[quality],
                audio_kbps=AUDIO_KBPS[quality],
            )
        )
    return rungs
