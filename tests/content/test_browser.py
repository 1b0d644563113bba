"""A real Chromium on the viewer site: sign-up, the player over HLS from the test S3,
captions, resume, expired signatures, embeds, the watchlist, search, axe-core and layouts.

Screenshots (375 px and 1440 px), axe-core results and timings go to the output directory
(AFFEA_BROWSER_OUTPUT, default var/browser-tests/); a failing test leaves a screenshot and
the browser console there too.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client

from content_app.models import Category, Film, Subtitle
from tests.content.browser import AXE, CUE, DESKTOP, OUTPUT, PHONE
from tests.content.factories import CLIP_SECONDS, make_film, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed"),
]


def _record(name: str, value: object) -> None:
    """Keep a figure of this run (axe results, timings) in OUTPUT/figures.json."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "figures.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = value
    path.write_text(json.dumps(figures, indent=2, sort_keys=True))


def axe_check(tab: Any, name: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; record every violation, fail on serious or critical ones."""
    tab.add_script_tag(path=str(AXE))
    result = tab.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    violations = [
        {"id": v["id"], "impact": v["impact"], "targets": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
    _record(f"axe:{name}", violations)
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe-core on {name}: {bad}"
    return violations


def screenshots(tab: Any, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for label, size in (("375", PHONE), ("1440", DESKTOP)):
        tab.set_viewport_size(size)
        tab.screenshot(path=str(OUTPUT / f"{name}-{label}.png"), full_page=True)
        overflow = tab.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways at {label} px"
    tab.set_viewport_size(DESKTOP)


def add_subtitle(film: Film) -> None:
    subtitle = Subtitle(film=film, language="en", label="English")
    body = f"WEBVTT\n\n00:00:00.000 --> 00:00:{CLIP_SECONDS:02d}.000\n{CUE}\n".encode()
    subtitle.file.save("en.vtt", ContentFile(body), save=False)
    subtitle.save()


# --- Driving the player ------------------------------------------------------------------

MEDIA = "document.querySelector('#player [slot=media]')"


def wait_media(tab: Any, condition: str) -> None:
    tab.wait_for_function(f"() => {{ const m = {MEDIA}; return m && ({condition}); }}")


def media(tab: Any, expression: str) -> Any:
    return tab.evaluate(f"() => {{ const m = {MEDIA}; return {expression}; }}")


def press_play_and_time_first_frame(tab: Any) -> float:
    """Click the play button; milliseconds until the first frame is painted."""
    wait_media(tab, "m.readyState >= 1")
    tab.evaluate(
        f"""() => {{
          const m = {MEDIA};
          m.muted = true;
          const video = m.nativeEl || m;
          window.firstFrame = new Promise(done => video.requestVideoFrameCallback(
            () => done(performance.now())));
        }}"""
    )
    started = tab.evaluate("() => performance.now()")
    tab.locator("media-play-button").click()
    first = tab.evaluate("() => window.firstFrame")
    wait_media(tab, "m.currentTime > 0.3 && !m.paused")
    return float(first - started)


def choose(tab: Any, button: str, item: str) -> None:
    """Open a media-chrome menu by its button and pick an item by its visible text."""
    tab.locator(button).click()
    tab.get_by_role("menuitemradio", name=re.compile(item)).first.click()


# --- Tests ---------------------------------------------------------------------------------


def test_viewer_signs_up_finds_watches_and_keeps_a_watchlist(
    live_server, page, make_video, upload, run_jobs
) -> None:
    base = live_server.url
    drama, _ = Category.objects.get_or_create(name="Drama", slug="drama")
    film = Film.objects.create(
        title="Harbour Lights",
        slug="harbour-lights",
        description="A lighthouse keeper counts the ships that never come back.",
        director="Ana Ruiz",
        year=2025,
        category=drama,
        source=upload(make_video(width=640, height=360, seconds=CLIP_SECONDS)),
    )
    run_jobs()  # the real pipeline: probe, ladder, thumbnail and poster
    film.refresh_from_db()
    assert film.processing_state == "ready", film.processing_error
    Film.objects.filter(pk=film.pk).update(is_published=True, published_at=film.created_at)
    add_subtitle(film)

    # Sign up, confirm through the link in the outbox, sign in.
    page.goto(f"{base}/accounts/signup/")
    axe_check(page, "signup")
    page.fill("input[name=email]", "newviewer@example.com")
    for field in page.locator("input[type=password]").all():
        field.fill("a-long-passphrase-2026")
    for box in page.locator("form.form input[type=checkbox]").all():
        box.check()
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    run_jobs()  # the confirmation mail
    link = re.search(r"https?://\S+/accounts/confirm/\S+/", str(mail.outbox[-1].body))
    assert link is not None, "no confirmation link in the mail"
    page.goto(base + urlsplit(link.group(0)).path)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile("/accounts/login/"))
    axe_check(page, "login")
    page.fill("input[name=email]", "newviewer@example.com")
    page.fill("input[name=password]", "a-long-passphrase-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    axe_check(page, "home")
    screenshots(page, "home")

    # Search finds the film by a word of its synopsis.
    page.fill("#site-search", "lighthouse")
    page.press("#site-search", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=lighthouse"))
    axe_check(page, "search")
    page.get_by_role("link", name="Harbour Lights").first.click()
    page.wait_for_url(re.compile("/films/harbour-lights/"))
    axe_check(page, "film")
    screenshots(page, "film")

    # Play: time advances; switch quality; captions; seek; reload resumes; ?t=5.
    first_frame_ms = press_play_and_time_first_frame(page)
    assert media(page, "m.videoRenditions.length") >= 2
    before = media(page, "m.currentTime")
    choose(page, "media-rendition-menu-button", "360p")
    wait_media(
        page, "m.api && m.api.currentLevel >= 0 && m.api.levels[m.api.currentLevel].height >= 360"
    )
    assert media(page, "m.currentTime") >= before
    choose(page, "media-captions-menu-button", "English")
    wait_media(
        page,
        f"[...m.textTracks].some(t => t.mode === 'showing' && t.activeCues && "
        f"[...t.activeCues].some(c => c.text.includes({CUE!r})))",
    )
    # The open captions menu, as screen readers get it (Chromium's accessibility tree): named,
    # holding only its choices. (axe-core flags the menu for media-chrome's back button, which
    # sits in a hidden slot of every top-level menu: not rendered, not in the tree.)
    page.locator("media-captions-menu-button").click()
    page.get_by_role("menuitemradio", name="English").wait_for()
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    shown = [
        (node["role"]["value"], node.get("name", {}).get("value"))
        for node in tree
        if not node.get("ignored") and "role" in node
    ]
    menus = [name for role, name in shown if role == "menu"]
    assert menus == ["Captions"]
    assert ("menuitemradio", "English") in shown
    assert all(name != "Back to previous menu" for _, name in shown)
    page.keyboard.press("Escape")
    page.evaluate(f"() => {{ {MEDIA}.currentTime = {CLIP_SECONDS / 2}; }}")
    wait_media(page, f"!m.seeking && m.currentTime >= {CLIP_SECONDS / 2}")
    with page.expect_response(re.compile(r"/progress/$")):
        page.evaluate(f"() => {MEDIA}.pause()")
    stopped = media(page, "m.currentTime")
    page.reload()
    wait_media(page, f"m.readyState >= 1 && Math.abs(m.currentTime - {stopped}) < 1")
    page.goto(f"{base}/films/harbour-lights/?t=5")
    wait_media(page, "m.readyState >= 1 && Math.abs(m.currentTime - 5) < 0.5")

    # The median time to the first frame of five fresh loads.
    runs = [first_frame_ms]
    for _ in range(4):
        page.goto(f"{base}/films/harbour-lights/?t=0")
        runs.append(press_play_and_time_first_frame(page))
    _record("play_to_first_frame_ms", {"runs": runs, "median": statistics.median(runs)})

    # Watchlist: add, listed, remove.
    page.get_by_role("button", name="Add to watchlist").click()
    page.get_by_role("button", name="Remove from watchlist").wait_for()
    page.goto(f"{base}/watchlist/")
    assert page.get_by_role("link", name="Harbour Lights").count() >= 1
    axe_check(page, "watchlist")
    screenshots(page, "watchlist")
    page.goto(f"{base}/films/harbour-lights/")
    page.get_by_role("button", name="Remove from watchlist").click()
    page.get_by_role("button", name="Add to watchlist").wait_for()
    page.goto(f"{base}/watchlist/")
    assert page.get_by_role("link", name="Harbour Lights").count() == 0

    for name, path in (
        ("continue-watching", "/continue-watching/"),
        ("category", "/categories/drama/"),
        ("account", "/accounts/"),
        ("not-found", "/films/no-such-film/"),
    ):
        page.goto(base + path)
        axe_check(page, name)
        screenshots(page, name)


def _sign_in_the_browser(page: Any, live_server: Any, user: Any) -> None:
    """Give the browser a session of `user` (signing in through the page is tested above)."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


def test_playback_carries_on_through_an_expired_signature(live_server, page, settings) -> None:
    settings.AWS_QUERYSTRING_EXPIRE = 1  # PLAYBACK_URL_TTL: URLs last 1 s + the film
    _sign_in_the_browser(page, live_server, make_user(email="late@example.com"))
    film = make_film(qualities=("120p", "360p"), upload=True)
    masters: list[str] = []
    page.on("request", lambda r: masters.append(r.url) if "master.m3u8" in r.url else None)
    refused: list[int] = []
    page.on("response", lambda r: refused.append(r.status) if r.status == 403 else None)

    page.goto(f"{live_server.url}/films/{film.slug}/")
    wait_media(page, "m.readyState >= 1")
    time.sleep(1 + CLIP_SECONDS + 1.5)  # every signed URL of this load has expired now
    page.evaluate(f"() => {{ const m = {MEDIA}; m.muted = true; m.currentTime = 3; m.play(); }}")
    wait_media(page, "m.currentTime > 3.5 && !m.paused")

    assert 403 in refused
    assert len(masters) >= 2  # fresh URLs were fetched


def test_embeddable_film_plays_in_an_iframe_on_another_origin(live_server, page) -> None:
    film = make_film(qualities=("120p", "360p"), upload=True, public_playback=True)
    add_subtitle(film)
    embed = f"{live_server.url}/embed/{film.slug}/"
    host = "127.0.0.1" if urlsplit(live_server.url).hostname == "localhost" else "localhost"
    html = (
        f'<!doctype html><html lang="en"><title>Festival</title><main>'
        f'<iframe src="{embed}" width="640" height="360" title="Film"></iframe></main></html>'
    ).encode()

    class Festival(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Festival)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outer = f"http://{host}:{server.server_address[1]}/"
    page.goto(outer)
    frame = page.frame_locator("iframe")
    frame.locator("media-play-button").click()
    inner = next(f for f in page.frames if f.url.startswith(embed))
    inner.wait_for_function(
        f"() => {{ const m = {MEDIA}; return m && m.currentTime > 0.5 && !m.paused; }}"
    )
    server.shutdown()

    page.goto(embed)
    axe_check(page, "embed")
    screenshots(page, "embed")


def test_a_film_whose_media_is_gone_says_so_instead_of_spinning(live_server, page) -> None:
    # Renditions on record whose objects are not in storage (as after a replaced source's
    # files were removed): every fragment answers 404; hls.js retried for good, in silence.
    _sign_in_the_browser(page, live_server, make_user(email="gone@example.com"))
    film = make_film(qualities=("120p", "360p"), upload=False)

    page.goto(f"{live_server.url}/films/{film.slug}/")
    page.evaluate(f"() => {{ const m = {MEDIA}; m.muted = true; m.play().catch(() => {{}}); }}")

    notice = page.wait_for_selector("#player-error:not([hidden])", timeout=30_000)
    assert "cannot be played right now" in notice.inner_text()
