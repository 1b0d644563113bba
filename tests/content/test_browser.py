"""A real Chromium plays films straight from the test S3: progressive video and hls.js."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from affea.localdev import SeaweedS3, configure_bucket_cors
from tests.content.factories import CLIP_SECONDS, make_film, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed"),
]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

# Sign in through the API, ask for a video URL, play it in a plain <video>, seek to the
# middle and play on: what SPA players built on <video> or video.js do.
PLAY_PROGRESSIVE = """
async ({email, password, filmId, middle}) => {
  const login = await fetch("/api/users/login/", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email, password}),
  });
  if (!login.ok) throw new Error("login answered " + login.status);
  const answer = await fetch(`/api/content/video-url/${filmId}/`, {credentials: "include"});
  if (!answer.ok) throw new Error("video-url answered " + answer.status);
  const {url} = await answer.json();

  const video = document.createElement("video");
  video.muted = true;
  document.body.appendChild(video);
  const until = (test, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), 20000);
    const check = () => {
      if (video.error) {
        clearTimeout(timer);
        reject(new Error("media error " + video.error.code));
      } else if (test()) { clearTimeout(timer); resolve(); }
      else setTimeout(check, 50);
    };
    check();
  });
  video.src = url;
  await video.play();
  await until(() => video.currentTime > 0.5, "playback to start");
  const duration = video.duration;
  video.currentTime = middle;
  await until(() => !video.seeking && video.currentTime > middle + 0.5, "playback after seeking");
  return {duration, after: video.currentTime};
}
"""

WATCH_WITH_HLS_JS = """
async ({middle}) => {
  const video = document.getElementById("player");
  video.muted = true;
  const until = (test, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), 20000);
    const check = () => {
      if (test()) { clearTimeout(timer); resolve(); } else setTimeout(check, 50);
    };
    check();
  });
  await until(() => video.readyState >= 1, "the master playlist to load");
  await video.play();
  await until(() => video.currentTime > 0.5, "playback to start");
  video.currentTime = middle;
  await until(() => !video.seeking && video.currentTime > middle + 0.5, "playback after seeking");
  // hls.js feeds Media Source Extensions (a blob: source); the progressive fallback does not.
  return {mse: video.src.startsWith("blob:"), after: video.currentTime};
}
"""


@contextmanager
def chromium() -> Iterator[Any]:
    """Start Chromium; only after the test's rows exist, as Playwright runs an event loop
    in this thread and Django refuses ORM calls while one is running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


def test_video_url_plays_and_seeks_in_a_plain_video_element(live_server) -> None:
    make_user(email="watcher@example.com", password="a-long-password-1")
    film = make_film(qualities=("360p",), upload=True)

    with chromium() as browser:
        page = browser.new_page()
        page.goto(live_server.url + "/")
        result = page.evaluate(
            PLAY_PROGRESSIVE,
            {
                "email": "watcher@example.com",
                "password": "a-long-password-1",
                "filmId": film.pk,
                "middle": CLIP_SECONDS / 2,
            },
        )

    assert result["duration"] == pytest.approx(CLIP_SECONDS, abs=0.2)
    assert result["after"] > CLIP_SECONDS / 2 + 0.5


def test_film_page_plays_through_hls_js_from_the_bucket(live_server, seaweed: SeaweedS3) -> None:
    # hls.js fetches media with XHR, so the bucket must allow this exact origin (port included).
    configure_bucket_cors(
        seaweed.client(), settings.AWS_STORAGE_BUCKET_NAME, [*seaweed.cors_origins, live_server.url]
    )
    user = make_user()
    film = make_film(qualities=("120p", "360p"), upload=True)
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value

    with chromium() as browser:
        context = browser.new_context()
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/films/{film.slug}/")
        result = page.evaluate(WATCH_WITH_HLS_JS, {"middle": CLIP_SECONDS / 2})

    assert result["mse"] is True
    assert result["after"] > CLIP_SECONDS / 2 + 0.5
