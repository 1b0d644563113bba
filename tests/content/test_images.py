"""Staff images: pixel count checked without decoding, re-encoded before viewers see them."""

from __future__ import annotations

import io
import struct
import threading
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


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)


def display_p3_profile() -> bytes:
    """A minimal ICC v2 monitor profile with Display P3's primaries (D50-adapted) and a
    2.2 gamma, as phones tag their photos (ICC.1:2001-04, section 6)."""
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(2.2 * 256)) + bytes(2)
    name = b"Display P3 (test)\0"
    description = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(8 + 3 + 67)
    tags = [
        (b"desc", description),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", _xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", _xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + bytes(4) + b"none\0"),
    ]
    start = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        data += bytes(-(start + len(data)) % 4)  # tags start on 4-byte boundaries
        table += signature + struct.pack(">II", start + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I4sI", 128 + len(body), bytes(4), 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + _xyz(0.9642, 1.0, 0.8249)[8:]
        + bytes(48)
    )
    return header + body


def test_a_display_p3_photo_is_converted_to_srgb_before_its_profile_is_dropped(tmp_path: Path):
    source, dest = tmp_path / "in.jpg", tmp_path / "out.jpg"
    Image.new("RGB", (400, 300), (180, 120, 100)).save(
        source, "JPEG", quality=95, icc_profile=display_p3_profile()
    )
    image_normalize(source, dest, field="poster")
    with Image.open(dest) as out:
        assert "icc_profile" not in out.info
        pixel = out.getpixel((200, 150))
    assert isinstance(pixel, tuple)
    # P3's reds are wider than sRGB's: the same numbers mean a stronger red in P3.
    assert pixel[0] >= 188
    assert pixel[1] <= 118


def test_a_colour_profile_littlecms_cannot_read_is_ignored(tmp_path: Path):
    source, dest = tmp_path / "in.jpg", tmp_path / "out.jpg"
    Image.new("RGB", (400, 300), (180, 120, 100)).save(
        source, "JPEG", quality=95, icc_profile=b"not a profile at all"
    )
    image_normalize(source, dest, field="poster")
    with Image.open(dest) as out:
        pixel = out.getpixel((200, 150))
    assert isinstance(pixel, tuple)
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, (180, 120, 100), strict=True))


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


def test_a_staff_poster_saved_while_the_first_images_are_recorded_wins_and_leaks_nothing(
    staff_client, run_jobs, make_video, upload, monkeypatch
):
    import django_rq
    from django.db import connection

    from content_app import admin as film_admin
    from content_app.models import Rendition

    film = Film.objects.create(title="Race", slug="race", source=upload(make_video()))
    queue = django_rq.get_queue("high")
    worker = django_rq.get_worker("high", "default", worker_class="rq.SimpleWorker")
    worker.work(burst=True, max_jobs=3, with_scheduler=False)  # saved source, probe, 120p
    queued = queue.fetch_job(f"film-{film.pk}-v1-images")
    assert queued is not None
    queued.delete()  # run below by hand, at the worst moment
    save = film_admin._save_taking_a_free_slug
    steps: list[threading.Thread] = []

    def images_recorded_meanwhile(*args, **kwargs):
        def images() -> None:
            try:
                pipeline.film_make_images(film_id=film.pk, version=1)
            finally:
                connection.close()

        # Between the form reading the film's images and saving the upload.
        step = threading.Thread(target=images)
        step.start()
        step.join(timeout=3)  # unless the form holds the row, the step records its images now
        steps.append(step)
        return save(*args, **kwargs)

    monkeypatch.setattr(film_admin, "_save_taking_a_free_slug", images_recorded_meanwhile)
    photo = SimpleUploadedFile("mine.jpg", _photo(), content_type="image/jpeg")
    response = _change(staff_client, film, poster=photo)
    assert response.status_code == 302
    for step in steps:
        step.join(timeout=60)
    run_jobs()  # the poster's re-encoding
    film.refresh_from_db()
    assert (film.poster.name or "").startswith(f"films/{film.uuid}/images/staff-poster-")
    assert not film.poster_generated
    assert film.thumbnail_generated
    named = {film.source.name, film.thumbnail.name, film.poster.name}
    for rendition in Rendition.objects.filter(film=film):
        named |= {rendition.media_key, rendition.playlist_key}
    assert set(objects.list_keys(pipeline.film_prefix(film))) == named
