"""The rendition ladder: which rungs a source gets, and their sizes."""

from __future__ import annotations

from content_app.media.ladder import ladder_for


def _sizes(width: int, height: int) -> list[tuple[str, int, int]]:
    return [(r.quality, r.width, r.height) for r in ladder_for(width, height)]


def test_1080p_source_gets_all_four_rungs_lowest_first():
    assert _sizes(1920, 1080) == [
        ("120p", 214, 120),
        ("360p", 640, 360),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ]


def test_rungs_above_the_source_are_skipped():
    assert [q for q, _, _ in _sizes(1280, 720)] == ["120p", "360p", "720p"]


def test_120p_is_made_even_from_a_smaller_source_without_upscaling():
    assert _sizes(160, 90) == [("120p", 160, 90)]


def test_portrait_source_uses_its_shorter_side():
    assert _sizes(1080, 1920) == [
        ("120p", 120, 214),
        ("360p", 360, 640),
        ("720p", 720, 1280),
        ("1080p", 1080, 1920),
    ]


def test_odd_sizes_are_rounded_to_even():
    for _, width, height in _sizes(1001, 563):
        assert width % 2 == 0
        assert height % 2 == 0


def test_an_odd_small_source_is_never_scaled_up_by_rounding():
    # 119 rounds to 120 and 213 to 214: a rung must stay within the source's own pixels.
    assert _sizes(213, 119) == [("120p", 212, 118)]
    assert _sizes(19, 19) == [("120p", 18, 18)]


def test_caps_and_audio_bitrates_follow_the_rung():
    rungs = {r.quality: r for r in ladder_for(1920, 1080)}
    assert {q: r.maxrate_kbps for q, r in rungs.items()} == {
        "120p": 200,
        "360p": 800,
        "720p": 2800,
        "1080p": 5000,
    }
    assert rungs["120p"].audio_kbps == 64
    assert rungs["1080p"].audio_kbps == 128
