"""What bench/api.py measures, the goals of issue 9 item 12, and the printed table."""

from __future__ import annotations

import statistics

from _catalogue import SEARCH_WORD
from _load import Sample

SIZES = (100, 10_000)
BARE = "/bench/bare/"
BARE_LABEL = "bare Django view"
# label, path ({film} and {word} filled in), signed in, what a correct answer contains
ENDPOINTS: list[tuple[str, str, bool, str]] = [
    ("list page 1", "/api/content/?page=1", False, '"results"'),
    ("search", "/api/content/?search={word}", False, SEARCH_WORD.title()),
    ("detail (signed in)", "/api/content/{film}/", True, '"converted_files"'),
    ("video-url", "/api/content/video-url/{film}/", True, '"url"'),
    ("HLS master", "/api/content/{film}/hls/master.m3u8", True, "#EXT-X-STREAM-INF"),
    ("bare list", "/api/content/", False, '"converted_files"'),
    ("home page", "/", False, "</html>"),
    ("sitemap films page", "/sitemap-films.xml", False, "</urlset>"),
]
RATIO_GOALS = {
    "list page 1": 1.5,
    "search": 1.5,
    "detail (signed in)": 1.5,
    "video-url": 1.5,
    "HLS master": 1.5,
    "home page": 2.0,
}
ONE_CLIENT_GOAL_MS = 50.0


def _median(samples: list[Sample]) -> tuple[float, float, float]:
    return (
        statistics.median(s.p50_ms for s in samples),
        statistics.median(s.p95_ms for s in samples),
        statistics.median(s.rate for s in samples),
    )


def report(
    samples: dict[tuple[str, int], list[Sample]],
    one_client: list[Sample],
    queries: dict[int, dict[str, str]],
    misses: dict[tuple[str, int], list[float]],
    *,
    seconds: float,
    clients: int,
) -> None:
    """Print the table (medians over the rounds) and each goal with PASS or FAIL."""
    small, large = SIZES
    print(
        f"\ngunicorn (gunicorn.conf.py, access log off), {clients} keep-alive clients (wrk), "
        f"{seconds:g} s per endpoint per round; medians over {len(one_client)} rounds\n"
    )
    print("| endpoint | films | p50 ms | p95 ms | req/s | p95 ratio 10k/100 | queries |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    p95: dict[tuple[str, int], float] = {}
    for label in [BARE_LABEL, *(e[0] for e in ENDPOINTS)]:
        for films in SIZES:
            p50, p95[label, films], rate = _median(samples[label, films])
            shown = f"{p95[label, large] / p95[label, small]:.2f}" if films == large else ""
            print(
                f"| {label} | {films:,} | {p50:.1f} | {p95[label, films]:.1f} | {rate:.0f} "
                f"| {shown} | {queries[films][label]} |"
            )
    p50, one_p95, rate = _median(one_client)
    print(
        f"| bare list, one client | {large:,} | {p50:.1f} | {one_p95:.1f} | {rate:.0f} | "
        f"| {queries[large]['bare list']} |"
    )
    print("\nafter a catalogue change, the one request that builds the answer (cache miss):")
    for label, *_ in ENDPOINTS:
        built = ", ".join(
            f"{statistics.median(misses[label, f]):.0f} ms at {f:,} films" for f in SIZES
        )
        print(f"  {label}: {built}")
    print("\ngoals (issue 9, item 12):")
    goals: list[tuple[str, bool]] = []
    for label, limit in RATIO_GOALS.items():
        ratio = p95[label, large] / p95[label, small]
        goals.append((f"{label}: p95 10k/100 = {ratio:.2f} <= {limit}", ratio <= limit))
    goals.append(
        (
            f"bare list, one client, 10k: p95 {one_p95:.1f} ms <= 50 ms",
            one_p95 <= ONE_CLIENT_GOAL_MS,
        )
    )
    for label in ("detail (signed in)", "HLS master"):
        for films in SIZES:
            mine, reference = p95[label, films], p95["video-url", films]
            goals.append(
                (
                    f"{label} p95 {mine:.1f} ms <= video-url p95 {reference:.1f} ms ({films:,})",
                    mine <= reference,
                )
            )
    changing = [label for label in queries[small] if queries[small][label] != queries[large][label]]
    goals.append(
        (f"queries constant in catalogue size (differ: {changing or 'none'})", not changing)
    )
    for text, ok in goals:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
