"""Proof under combined faults: every fault the simulator knows, at once, and the crawl still ends
complete, byte-identical to what was served, and never faster than the rate it was given."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from helpers import WireClock, assert_within_rate, crawl_into

from pelodump.archive import open_archive
from pelodump.sim.faults import Faults
from pelodump.sim.server import sim_in_thread
from pelodump.throttle import RetryPolicy
from pelodump.verify import verify_archive

RATE = 50.0
# About 10% 5xx over three statuses, 2% resets, 2% truncated bodies, 1% invalid JSON with a 200.
# The simulator's own limit sits below RATE, so its bucket runs dry now and then and answers 429
# with Retry-After (about 5% of requests, measured below). The dice are rolled in request order
# whatever the request, and a fault rolled for a request answered 429 or 401 does not show: seed 58
# rolls every fault at least three times in the first 140 requests, so every run shows them all.
CHAOS = Faults(
    p_500=0.034, p_502=0.033, p_503=0.033, p_reset=0.02, p_truncate=0.02, p_invalid_json=0.01,
    rate_limit=15.0, latency_ms=2.0, jitter_ms=15.0, expire_tokens_every=70, seed=58,
)  # fmt: skip
# Small delays keep the test fast; enough attempts that a 6% error rate never exhausts them.
RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.1)


def test_a_crawl_under_every_fault_at_once_is_complete_identical_and_polite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "archive"
    # The simulator on its own thread: its log times arrivals as they come, not when a crawler
    # sharing its event loop lets it look.
    with sim_in_thread(workouts=45, seed=21, faults=CHAOS) as sim:
        wire = WireClock(monkeypatch, sim.api_url)
        environ = {  # a password login, so the expired tokens are refreshed for real
            "PELOTON_USERNAME": sim.member.username,
            "PELOTON_PASSWORD": sim.member.password,
        }
        crawl = crawl_into(sim, root, environ=environ, rate=RATE, concurrency=6, retry=RETRY)
        stats = asyncio.run(crawl)

    assert stats.failures == []
    requests = len(sim.api_log())
    # Every fault happened, at roughly the rate asked for (the test proves nothing otherwise).
    for fault in ("500", "502", "503", "reset", "truncate", "invalid_json"):
        assert sim.counts[fault] > 0, fault
    assert 0.02 * requests <= sim.counts["rate_limit"] <= 0.12 * requests
    assert 0.05 * requests <= sim.counts["500"] + sim.counts["502"] + sim.counts["503"]
    assert sim.counts["401"] >= 2 and sim.tokens.refreshed_count >= 2

    archive = open_archive(root)
    report = verify_archive(archive, read_data=True)
    assert report.clean, report.problems
    [run] = archive.runs.values()
    assert run.outcome == "complete"
    for workout_id in sim.member.workout_ids():
        for kind in ("workout", "performance_graph"):
            capture = archive.latest(kind, workout_id)
            assert capture is not None, (kind, workout_id)
            digest = hashlib.sha256(archive.read_blob(capture.blob)).hexdigest()
            assert digest in sim.served_sha256(capture.path, capture.query), (kind, workout_id)
    # Every 200 body kept came from an answer served whole: none of the cut or invalid ones got in.
    for _, record in archive.iter_records():
        if record["type"] == "capture" and record["blob"] and record["status"] == 200:
            served = sim.served_sha256(record["path"], record["query"])
            assert record["blob"].removeprefix("sha256:") in served, record
    assert not [note for note in report.notes if "no record names" in note]

    # Windows that are whole multiples of the spacing (1 / RATE): the limiter fills them exactly.
    assert_within_rate(wire, sim, RATE, windows=(0.1, 0.2, 0.5, 1.0, 2.0))


def test_cloudflare_rate_limit_pages_without_retry_after_slow_the_crawl_until_complete(
    tmp_path: Path,
) -> None:
    """Cloudflare's error 1015 is an HTML page with no Retry-After: the crawler backs off on its
    own schedule (every worker), and the crawl still ends complete with only JSON archived."""
    root = tmp_path / "archive"
    faults = Faults(rate_limit=15.0, rate_limit_html=True, seed=5)
    retry = RetryPolicy(base_delay=0.05, max_delay=0.4)

    with sim_in_thread(workouts=30, seed=22, faults=faults) as sim:
        stats = asyncio.run(crawl_into(sim, root, rate=RATE, concurrency=6, retry=retry))

    assert stats.failures == []
    assert sim.counts["rate_limit"] >= 3
    archive = open_archive(root)
    report = verify_archive(archive, read_data=True)
    assert report.clean, report.problems
    for workout_id in sim.member.workout_ids():
        assert archive.latest("performance_graph", workout_id) is not None
    html = [r for _, r in archive.iter_records() if r["type"] == "capture" and r["status"] == 429]
    assert html and all(r["blob"] is None for r in html)  # the HTML page is never a blob
