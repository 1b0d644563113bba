"""A real Chromium uploads a film's source through the admin page straight to the test S3,
on a throttled link that drops at about half, and the film then reaches `ready`.

The file is a real ~30 MB video (3 s of lossless noise from lavfi) sent in 5 MiB parts,
S3's smallest: 6 parts keep the run well under a minute on a small machine while the drop
still falls between finished parts and the part in flight.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from content_app.models import Film, ProcessingState

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no Debian chromium"),
]
PART = 5 * 1024 * 1024
THROTTLE = {"offline": False, "latency": 20, "downloadThroughput": 8_000_000,
            "uploadThroughput": 3_000_000}  # fmt: skip


@pytest.fixture
def big_source(tmp_path) -> Path:
    path = tmp_path / "festival master.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=s=640x360:r=24:d=3,noise=alls=60:allf=t",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
         str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def _percent(tab) -> float:
    return tab.evaluate(
        "() => { const u = document.querySelector('[data-film-uploader]').uppy;"
        " const f = u.getFiles()[0]; return f ? (f.progress.percentage || 0) : 0 }"
    )


def test_direct_upload_survives_a_dropped_connection_and_the_film_gets_ready(
    page,
    live_server,
    settings,
    django_user_model,
    big_source,
    run_jobs,
):
    settings.UPLOAD_PART_SIZE = PART
    staff = django_user_model.objects.create_superuser(email="s@example.com", password="pw")
    film = Film.objects.create(title="Festival master", slug="festival-master")
    parts_put: list[int] = []
    parts_done: list[int] = []

    def on_request(request) -> None:
        if request.method == "PUT" and "partNumber=" in request.url:
            parts_put.append(int(parse_qs(urlsplit(request.url).query)["partNumber"][0]))

    def on_finished(request) -> None:
        if request.method == "PUT" and "partNumber=" in request.url:
            parts_done.append(int(parse_qs(urlsplit(request.url).query)["partNumber"][0]))

    # Chromium's offline mode holds new requests but lets one in flight finish; the part
    # sent when the link comes back is cut off as well, as a dropped TCP connection would be.
    drop = {"armed": False}

    def cut_off(route) -> None:
        if drop["armed"] and route.request.method == "PUT":
            drop["armed"] = False
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/*partNumber=*", cut_off)
    page.on("request", on_request)
    page.on("requestfinished", on_finished)
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", staff.email)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.goto(live_server.url + reverse("admin:content_app_film_change", args=[film.pk]))
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    page.set_input_files(".uppy-Dashboard-input >> nth=0", str(big_source))
    started = time.monotonic()
    page.click(".uppy-StatusBar-actionBtn--upload")
    while _percent(page) < 50:
        assert time.monotonic() - started < 30, "the upload did not reach half"
        page.wait_for_timeout(100)
    drop["armed"] = True
    page.context.set_offline(True)
    finished_before_drop = sorted(set(parts_done))
    page.wait_for_timeout(4000)
    page.context.set_offline(False)
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    page.wait_for_selector(".film-uploader-message[data-kind=success]", timeout=45_000)

    size = big_source.stat().st_size
    expected = list(range(1, -(-size // PART) + 1))
    assert finished_before_drop, "no part had finished before the drop"
    assert sorted(set(parts_done)) == expected
    assert not drop["armed"], "no part was cut off"
    # Only the part that was cut off is sent again (which one depends on timing).
    resent = [n for n in expected if parts_put.count(n) > 1]
    assert len(resent) == 1, parts_put
    assert parts_put.count(resent[0]) == 2, parts_put
    assert resent[0] not in finished_before_drop, parts_put
    assert page.locator("text=The connection dropped").count() == 0  # replaced by success
    for number in finished_before_drop:  # resumed, not resent
        assert parts_put.count(number) == 1, (number, parts_put)
    film.refresh_from_db()
    assert (film.source.name or "").startswith(f"films/{film.uuid}/source-")
    run_jobs()
    page.wait_for_selector(f'[data-film-status="{film.pk}"][data-state="ready"]', timeout=15_000)
    film.refresh_from_db()
    assert film.processing_state == ProcessingState.READY
    print(f"upload {size / 1e6:.1f} MB in {len(expected)} parts, finished before the drop "
          f"{finished_before_drop}, PUTs {parts_put}")  # fmt: skip
