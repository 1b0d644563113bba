"""Staff-uploaded thumbnails and posters: checked by pixel count, re-encoded to standard sizes.

A small file can declare a huge picture (a 17 KB PNG of 12000x12000 pixels decodes to
576 MB): the check reads only the header, and the worker decodes a checked image once,
to a bounded JPEG without metadata, before viewers are given it.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import IO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from content_app.media.errors import MediaError
from content_app.media.ffmpeg import IMAGE_TALLEST, POSTER_WIDTH, THUMBNAIL_WIDTH

# Far above any poster worth showing, far below what would strain a browser or worker.
MAX_PIXELS = 40_000_000
# Largest output per field: the generated images' box.
SIZES: dict[str, tuple[int, int]] = {
    "thumbnail": (THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * IMAGE_TALLEST),
    "poster": (POSTER_WIDTH, POSTER_WIDTH * IMAGE_TALLEST),
}
JPEG_QUALITY = 85
# What a transparent upload is laid on: the site's card surface (`--surface` in
# static/css/site.css), so a logo on a transparent ground looks as it was drawn. Dropping
# the alpha instead would show whatever colour the file keeps under it, often black.
BACKGROUND = (0x1D, 0x1F, 0x23)


def image_check(file: IO[bytes]) -> tuple[int, int]:
    """Return an image's (width, height) read from its header; refuse oversized or unknown ones."""
    position = file.tell()
    try:
        with warnings.catch_warnings():
            # Pillow warns (and beyond twice its limit refuses) on huge headers: ours is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:  # lazy: reads the header, decodes nothing
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise MediaError(_too_large_message()) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(
            "This file is not an image Affea can read (use JPEG, PNG or WebP)."
        ) from exc
    finally:
        file.seek(position)
    if width * height > MAX_PIXELS:
        raise MediaError(_too_large_message(width, height))
    return width, height


def _too_large_message(width: int = 0, height: int = 0) -> str:
    size = f" ({width}x{height})" if width else ""
    return (
        f"This image has too many pixels{size}: at most {MAX_PIXELS // 1_000_000} megapixels "
        "are accepted. Export it smaller (a poster needs no more than about 1280x1920)."
    )


def image_normalize(source: Path, dest: Path, *, field: str) -> None:
    """Decode a checked image once and write it as an sRGB JPEG within the field's size,
    orientation and colour profile applied, with no metadata (EXIF, GPS, comments, ICC)."""
    with source.open("rb") as handle:
        image_check(handle)
    try:
        with Image.open(source) as image:
            image.draft("RGB", SIZES[field])  # JPEG sources decode at a reduced scale
            icc = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail(SIZES[field], Image.Resampling.LANCZOS)
            rgb = _to_rgb(_in_srgb(upright, icc) if icc else upright)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError("The image could not be decoded; upload it again.") from exc
    # A fresh image has no info dict: nothing of the upload's metadata is written.
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    clean.save(dest, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _in_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """The picture in sRGB, as browsers show an untagged JPEG: the upload's own colour
    profile (a phone's Display P3, say) is applied before metadata is dropped, or
    its colours would come out dull or wrong. A profile LittleCMS cannot use is ignored."""
    if image.mode not in ("RGB", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if isinstance(converted, Image.Image) else image


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB of any mode Pillow decodes: 16/32-bit and float greys scaled, not clipped
    (Pillow's own conversion makes a 16-bit grey scan white), transparency composited."""
    if image.mode.startswith("I"):  # 16-bit ("I;16*") or 32-bit integer grey
        wide = image.convert("I")
        high = wide.getextrema()[1]
        # 32-bit greys mostly hold 16-bit values (TIFF scans); only larger ones are taken
        # at their full 32 bits.
        full = image.mode == "I" and isinstance(high, int) and high >= 1 << 16
        scale = 1 / (1 << (24 if full else 8))
        image = wide.point(lambda value: value * scale).convert("L")
    elif image.mode == "F":
        low, high = image.getextrema()
        # Float greys are 0-1 by convention; anything else is stretched to its own range.
        if isinstance(low, float) and isinstance(high, float) and (low < 0 or high > 1):
            span = (high - low) or 1.0
            image = image.point(lambda value: (value - low) * 255 / span)
        else:
            image = image.point(lambda value: value * 255)
        image = image.convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(ground, rgba).convert("RGB")
    return image.convert("RGB")
