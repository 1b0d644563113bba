"""Staff images: pixel count checked without decoding, re-encoded before viewers see them."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from content_app import pipeline
from content_app.media import objects
from content_app.media.errors import MediaError
from content_app.media.images import BACKGROUND, MAX_PIXELS, image_check, image_normalize
from content_app.models import Film

pytestmark = pytest.mark.django_db(transaction=True)

INLINE_EMPTY = {
    f"{prefix}-{name}": value
    for prefix in ("subtitles", "renditions")
    for name, value in (
        ("TOTAL_FORMS", "0"),
        ("INITIAL_FORMS", "0"),
        ("MIN_NUM_FORMS", "0"),
        ("MAX_NUM_FORMS", "1000"),
    )
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(side: int = 12000) -> bytes:
    """A valid greyscale PNG of side x side black pixels, compressed to a few KB."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte, then the pixels
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def _photo(size: tuple[int, int] = (3000, 2000), fmt: str = "JPEG") -> bytes:
    """A picture carrying EXIF metadata (camera, orientation) as phones write it."""
    exif = Image.Exif()
    exif[0x010F] = "Affea Test Camera"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


def test_a_png_bomb_is_refused_from_its_header_alone():
    bomb = png_bomb()
    assert len(bomb) < 200_000
    started = time.monotonic()
    with pytest.raises(MediaError, match="too many pixels"):
        image_check(io.BytesIO(bomb))
    assert time.monotonic() - started < 0.5  # 144 megapixels were never decoded


def test_an_image_within_the_limit_passes_with_its_size():
    assert image_check(io.BytesIO(_photo((4000, 3000)))) == (4000, 3000)
    assert MAX_PIXELS > 4000 * 3000


def test_a_file_that_is_no_image_is_refused_in_plain_words():
    with pytest.raises(MediaError, match="not an image"):
        image_check(io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"))


def test_normalizing_writes_a_bounded_upright_jpeg_without_metadata(tmp_path: Path):
    source, dest = tmp_path / "in.png", tmp_path / "out.jpg"
    source.write_bytes(_photo((3000, 2000), fmt="PNG"))
    image_normalize(source, dest, field="thumbnail")
    with Image.open(dest) as out:
        assert out.format == "JPEG"
        # Orientation 6 applied: the 3000x2000 landscape is displayed as portrait.
        assert out.size == (640, 960)
        assert not out.getexif()
        assert "icc_profile" not in out.info
        assert "exif" not in out.info


def _normalized_pixel(tmp_path: Path, image: Image.Image) -> tuple[int, ...]:
    source, dest = tmp_path / "in.png", tmp_path / "out.jpg"
    image.save(source, "PNG")
    image_normalize(source, dest, field="poster")
    with Image.open(dest) as out:
        pixel = out.getpixel((out.width // 2, out.height // 2))
    assert isinstance(pixel, tuple)  # an RGB JPEG
    return pixel


def test_a_16_bit_grey_scan_keeps_its_greys(tmp_path: Path):
    grey = Image.new("I;16", (400, 300))
    grey.putdata([32768] * (400 * 300))  # mid-grey on a 16-bit scale
    assert all(abs(channel - 128) <= 2 for channel in _normalized_pixel(tmp_path, grey))


def test_a_transparent_ground_is_laid_on_the_cards_surface_not_black(tmp_path: Path):
    logo = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    logo.paste((255, 0, 0, 255), (0, 0, 100, 100))
    ground = _normalized_pixel(tmp_path, logo)
    assert all(abs(a - b) <= 3 for a, b in zip(ground, BACKGROUND, strict=True))


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="staff@example.com", password="pw")
    client.force_login(user)
    return client


def _change(staff_client, film: Film, **files: SimpleUploadedFile):
    return staff_client.post(
        reverse("admin:content_app_film_change", args=[film.pk]),
        {"title": film.title, "slug": film.slug, **files, **INLINE_EMPTY},
    )


def test_admin_refuses_a_png_bomb_with_a_clear_error_and_stores_nothing(staff_client):
    film = Film.objects.create(title="Bomb", slug="bomb")
    bomb = SimpleUploadedFile("poster.png", png_bomb(), content_type="image/png")
    response = _change(staff_client, film, poster=bomb)
    assert response.status_code == 200
    assert "too many pixels (12000x12000)" in response.content.decode()
    film.refresh_from_db()
    assert film.poster.name == ""
    assert objects.list_keys(pipeline.film_prefix(film)) == []


def test_a_bomb_beyond_pillows_own_bound_gets_the_same_clear_error(staff_client):
    # 196 megapixels: Pillow itself refuses this one, which Django's image field turned
    # into "Upload a valid image", a message that does not say what is wrong.
    film = Film.objects.create(title="Bigger bomb", slug="bigger-bomb")
    bomb = SimpleUploadedFile("poster.png", png_bomb(14000), content_type="image/png")
    response = _change(staff_client, film, poster=bomb)
    assert response.status_code == 200
    page = response.content.decode()
    # Pillow stops reading before it gives the size; the limit is what staff need.
    assert "This image has too many pixels: at most 40 megapixels are accepted" in page
    assert "Upload a valid image" not in page
    film.refresh_from_db()
    assert film.poster.name == ""


def test_staff_image_is_shown_only_once_re_encoded_and_the_upload_goes(staff_client, run_jobs):
    film = Film.objects.create(title="Poster", slug="poster")
    photo = SimpleUploadedFile("holiday.jpg", _photo(), content_type="image/jpeg")
    response = _change(staff_client, film, poster=photo)
    assert response.status_code == 302, response.content.decode()[:2000]
    film.refresh_from_db()
    # Until the worker has re-encoded it, viewers get what they had (here: nothing).
    assert film.poster.name == ""
    uploaded = film.images_pending["poster"]
    assert objects.list_keys(pipeline.film_prefix(film)) == [uploaded]

    run_jobs()
    film.refresh_from_db()
    assert film.images_pending == {}
    assert film.poster.name.startswith(f"films/{film.uuid}/images/staff-poster-")
    assert not film.poster_generated
    assert objects.list_keys(pipeline.film_prefix(film)) == [film.poster.name]
    data = film.poster.open("rb").read()
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "JPEG"
        assert out.size == (1280, 1920)
        assert not out.getexif()
