"""`pelodump fetch` against the simulator over loopback: complete, polite, incremental."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import LATE_STAMP_S, WireClock, assert_within_rate, crawl_into

from pelodump.archive import open_archive
from pelodump.crawl import _grouped
from pelodump.errors import LoginError
from pelodump.progress import CrawlStats, progress_line
from pelodump.sim.faults import Faults
from pelodump.sim.member import Member
from pelodump.sim.server import Sim, run_sim, sim_in_thread
from pelodump.throttle import RetryPolicy
from pelodump.verify import verify_archive


def requests_by_kind(sim: Sim, since: int = 0) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for record in sim.api_log()[since:]:
        if record.path.endswith("/performance_graph"):
            kinds["graph"] += 1
        elif record.path.startswith("/api/workout/"):
            kinds["workout"] += 1
        elif record.path.endswith("/workouts"):
            kinds["page"] += 1
        elif record.path.startswith("/api/ride/"):
            kinds["ride"] += 1
        else:
            kinds[record.path] += 1
    return kinds


def assert_everything_archived_as_served(sim: Sim, root: Path) -> None:
    archive = open_archive(root)
    for workout_id in sim.member.workout_ids():
        detail = archive.latest("workout", workout_id)
        graph = archive.latest("performance_graph", workout_id)
        assert detail is not None and graph is not None, workout_id
        for capture in (detail, graph):
            body = archive.read_blob(capture.blob)
            assert hashlib.sha256(body).hexdigest() in sim.served_sha256(
                capture.path, capture.query
            ), capture.path
    assert verify_archive(archive, read_data=True).clean


def watched_crawl(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    faults: Faults,
    retry: RetryPolicy,
    **sim_options: int,
) -> tuple[Sim, CrawlStats, WireClock]:
    """One crawl at 200 requests/s into tmp_path/archive, watched from the crawler's side;
    `sim_options` go to run_sim (workouts, seed)."""

    async def scenario() -> tuple[Sim, CrawlStats, WireClock]:
        async with run_sim(faults=faults, **sim_options) as sim:
            wire = WireClock(monkeypatch, sim.api_url)
            stats = await crawl_into(sim, tmp_path / "archive", rate=200.0, retry=retry)
            return sim, stats, wire

    return asyncio.run(scenario())


def assert_no_request_began_while_told_to_wait(wire: WireClock) -> None:
    """After each answer with a Retry-After, the crawler began no request until it had passed
    (requests begun before may still leave), on its own clock."""
    for answered, seconds in wire.told_to_wait:
        assert not [t for t in wire.started if answered < t < answered + seconds - 0.001]


def test_token_login_crawl_archives_every_workout_byte_identical_within_the_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate = 120.0

    # The simulator on its own thread, so that it stamps arrivals as they come, not when the
    # crawler's work on a shared event loop lets it (a late stamp can fake a burst).
    with sim_in_thread(workouts=120, seed=3) as sim:
        wire = WireClock(monkeypatch, sim.api_url)
        stats = asyncio.run(crawl_into(sim, tmp_path / "archive", rate=rate, concurrency=6))
    assert stats.failures == []
    assert_everything_archived_as_served(sim, tmp_path / "archive")
    assert_within_rate(wire, sim, rate, windows=(0.1, 0.25, 0.5, 1.0))
    assert all(record.bearer for record in sim.api_log())
    archive = open_archive(tmp_path / "archive")
    assert archive.latest("me", "me") is not None
    assert archive.latest("history_csv", sim.member.user_id).content_type.startswith("text/csv")
    rides = {r.key for r in archive.latest_of_kind("ride_details", ok_only=False).values()}
    assert "0" * 32 not in rides and rides  # Just Ride has no class to fetch
    # Each distinct class once, even though several workouts share a class.
    ride_requests = [r.path for r in sim.api_log() if r.path.startswith("/api/ride/")]
    assert len(ride_requests) == len(set(ride_requests))


def test_password_login_crawl_is_complete_and_leaves_no_secret_behind(tmp_path: Path) -> None:
    async def scenario() -> tuple[Sim, str, str]:
        async with run_sim(workouts=40, seed=4) as sim:
            environ = {
                "PELOTON_USERNAME": sim.member.username,
                "PELOTON_PASSWORD": sim.member.password,
            }
            stats = await crawl_into(sim, tmp_path / "archive", environ=environ)
            assert stats.failures == []
            cache = (tmp_path / "config" / "tokens.json").read_text()
            return sim, cache, sim.member.password

    sim, cache, password = asyncio.run(scenario())
    assert_everything_archived_as_served(sim, tmp_path / "archive")
    assert (tmp_path / "config" / "tokens.json").stat().st_mode & 0o777 == 0o600
    [entry] = orjson.loads(cache)["tokens"].values()
    secrets = [password, entry["access_token"], entry["refresh_token"]]
    for path in (tmp_path / "archive").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.parent.parent.name == "objects":
                data = open_archive(tmp_path / "archive").read_blob(
                    f"sha256:{path.parent.name}{path.name}"
                )
            for secret in secrets:
                assert secret.encode() not in data, path


def test_retry_after_is_honoured_and_errors_are_retried_until_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A limit the crawl passes even on a loaded machine: at 60 requests/s, with eight busy
    # processes beside it, the crawl never got fast enough to be limited at all.
    faults = Faults(
        rate_limit=25.0, p_500=0.05, p_502=0.05, p_503=0.05, p_reset=0.03, p_truncate=0.03,
        p_invalid_json=0.03, seed=11,
    )  # fmt: skip

    # Errors are 19% of answers, up to 24% with the 503s that count as errors (see
    # Crawler.fetch): with the default 6 attempts, one of the ~200 resources gave up in about
    # one run in a hundred (0.19^6 each); with 12, one in about a hundred thousand (0.24^12).
    retry = RetryPolicy(max_attempts=12, base_delay=0.01, max_delay=0.05)

    sim, stats, wire = watched_crawl(monkeypatch, tmp_path, faults, retry, workouts=60, seed=5)
    assert stats.failures == []
    assert stats.retries > 0
    for fault in ("rate_limit", "500", "502", "503", "reset", "truncate", "invalid_json"):
        assert sim.counts[fault] > 0, fault
    assert_everything_archived_as_served(sim, tmp_path / "archive")
    # Each Retry-After was waited out on the crawler's clock ...
    assert len(wire.told_to_wait) == sim.counts["rate_limit"]
    assert_no_request_began_while_told_to_wait(wire)
    # ... and on the simulator's, which stamps arrivals late when the loop is busy: the 429's
    # stamp and those after it can each be up to LATE_STAMP_S late.
    arrivals = sorted(record.time for record in sim.api_log())
    for limited in (r.time for r in sim.api_log() if r.fault == "rate_limit"):
        assert not [t for t in arrivals if limited + LATE_STAMP_S < t < limited + 1 - LATE_STAMP_S]
    failed = [c for c in open_archive(tmp_path / "archive").captures_of_kind("workout")]
    assert failed  # attempts that failed are in the log too:
    statuses = {
        r["status"]
        for _, r in open_archive(tmp_path / "archive").iter_records()
        if isinstance(r, dict) and r["type"] == "capture"
    }
    assert {None, 200, 429, 500, 502, 503} <= statuses


def test_a_token_expiring_mid_crawl_is_refreshed_once_and_the_crawl_continues(
    tmp_path: Path,
) -> None:
    async def scenario() -> tuple[Sim, CrawlStats]:
        async with run_sim(workouts=50, seed=6, faults=Faults(expire_tokens_every=60)) as sim:
            environ = {
                "PELOTON_USERNAME": sim.member.username,
                "PELOTON_PASSWORD": sim.member.password,
            }
            stats = await crawl_into(sim, tmp_path / "archive", environ=environ)
            return sim, stats

    sim, stats = asyncio.run(scenario())
    assert stats.failures == []
    expiries = sum(1 for r in sim.api_log() if r.status == 401)
    assert expiries >= 1
    # Workers that hit the same expired token together cause one refresh, not one each.
    assert sim.tokens.refreshed_count <= len(sim.api_log()) // 60 + 1
    assert_everything_archived_as_served(sim, tmp_path / "archive")


def test_second_run_on_an_unchanged_member_lists_a_page_or_two_and_fetches_nothing(
    tmp_path: Path,
) -> None:
    member = Member(seed=7, workouts=250, in_progress=False)

    async def scenario() -> tuple[Counter[str], Counter[str], CrawlStats]:
        async with run_sim(member=member) as sim:
            await crawl_into(sim, tmp_path / "archive")
            first = requests_by_kind(sim)
            mark = len(sim.api_log())
            stats = await crawl_into(sim, tmp_path / "archive")
            return first, requests_by_kind(sim, since=mark), stats

    first, second, stats = asyncio.run(scenario())
    csv = f"/api/user/{member.user_id}/workout_history_csv"
    assert first["page"] >= 3 and first["workout"] == 250 and first["graph"] == 250
    assert first[csv] == 1
    assert second["page"] <= 2
    assert second["workout"] == second["graph"] == second["ride"] == second[csv] == 0
    assert stats.skipped == 250


def test_in_progress_workout_is_fetched_again_and_a_new_workout_is_picked_up(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with run_sim(workouts=30, seed=8) as sim:
            in_progress = sim.member.workout_ids()[0]
            await crawl_into(sim, tmp_path / "archive")
            archive = open_archive(tmp_path / "archive")
            assert archive.latest("workout", in_progress).labels["status"] == "IN_PROGRESS"
            new_id = sim.member.add_workout()
            mark = len(sim.api_log())
            await crawl_into(sim, tmp_path / "archive")
            fetched = {r.path for r in sim.api_log()[mark:] if r.path.startswith("/api/workout/")}
            assert fetched == {
                f"/api/workout/{new_id}",
                f"/api/workout/{new_id}/performance_graph",
                f"/api/workout/{in_progress}",
                f"/api/workout/{in_progress}/performance_graph",
            }
            assert open_archive(tmp_path / "archive").latest("workout", new_id) is not None

    asyncio.run(scenario())


def test_workouts_added_during_a_crawl_are_neither_missed_nor_duplicated(tmp_path: Path) -> None:
    async def scenario() -> tuple[Sim, CrawlStats]:
        async with run_sim(workouts=220, seed=9, faults=Faults(new_workout_every=25)) as sim:
            stats = await crawl_into(sim, tmp_path / "archive", concurrency=4)
            return sim, stats

    sim, stats = asyncio.run(scenario())
    assert stats.failures == []
    archive = open_archive(tmp_path / "archive")
    workouts_fetched = Counter(
        r.path for r in sim.api_log() if r.path.startswith("/api/workout/") and r.status == 200
    )
    assert max(workouts_fetched.values()) == 1
    # Workouts added after the last look at the top are for the next run; all before it are here.
    archived = set(archive.latest_of_kind("workout"))
    assert sim.member.total > 220
    missing = [w for w in sim.member.workout_ids() if w not in archived]
    newest_listed = max(
        sim.member.meta(w).created_at for w in archived if sim.member.meta(w) is not None
    )
    assert all(sim.member.meta(w).created_at > newest_listed for w in missing)
    assert len(missing) <= 1


def test_resources_that_keep_failing_are_listed_and_the_run_says_so(tmp_path: Path) -> None:
    async def scenario() -> CrawlStats:
        async with run_sim(workouts=20, seed=10, faults=Faults(p_500=0.6, seed=1)) as sim:
            return await crawl_into(
                sim, tmp_path / "archive", retry=RetryPolicy(max_attempts=2, base_delay=0.001)
            )

    stats = asyncio.run(scenario())
    assert stats.failures
    assert all(failure.endswith("HTTP 500; gave up after 2 attempts") for failure in stats.failures)
    [run] = open_archive(tmp_path / "archive").runs.values()
    assert run.outcome == "failed"


@pytest.mark.parametrize("broken", [1, 2])
def test_resources_that_keep_answering_503_while_others_are_served_fail_alone(
    tmp_path: Path, broken: int
) -> None:
    member = Member(seed=10, workouts=60, in_progress=False)
    # Among the first asked for, so that the others are served meanwhile.
    victims = member.workout_ids()[:broken]
    graphs = [f"/api/workout/{victim}/performance_graph" for victim in victims]
    policy = RetryPolicy(base_delay=0.001, max_delay=0.01)  # max_attempts 6, max_cooldowns 20

    async def scenario() -> tuple[Sim, CrawlStats, int]:
        async with run_sim(member=member, faults=Faults(down_paths=tuple(graphs))) as sim:
            stats = await crawl_into(sim, tmp_path / "archive", retry=policy)
            sim.faults.down_paths = ()  # the API has recovered
            mark = len(sim.api_log())
            await crawl_into(sim, tmp_path / "archive", retry=policy)
            return sim, stats, mark

    sim, stats, mark = asyncio.run(scenario())
    # The first 503 of each paused every worker (and so did a next one when no request sent
    # after its last had been served yet, or too many others were refused meanwhile); the
    # rest were its own errors: retried with backoff up to max_attempts (6), nobody paused.
    attempts = {}
    for failure in stats.failures:
        found = re.fullmatch(
            r"performance_graph (\w+): HTTP 503 with a body that is not JSON; "
            r"gave up after (\d+) attempts",
            failure,
        )
        assert found, failure
        attempts[found[1]] = int(found[2])
    assert sorted(attempts) == sorted(victims)
    first_run, second = sim.api_log()[:mark], requests_by_kind(sim, since=mark)
    for victim, graph in zip(victims, graphs, strict=True):
        assert [r.status for r in first_run if r.path == graph] == [503] * attempts[victim]
    assert stats.pauses == sum(attempts.values()) - 6 * broken
    assert {r.fault for r in first_run if r.fault} == {"down"}
    runs = open_archive(tmp_path / "archive").runs.values()
    assert sorted(run.outcome for run in runs) == ["complete", "failed"]
    # The next run asks for the graphs it lacks, and for no other workout or graph.
    assert second["graph"] == broken and second["workout"] == 0
    assert_everything_archived_as_served(sim, tmp_path / "archive")


def test_an_api_shedding_load_with_503s_to_many_resources_pauses_everyone_and_loses_nothing(
    tmp_path: Path,
) -> None:
    # 60% of answers are 503s, to every kind of resource: an overloaded API, not one broken
    # resource. Counted as errors, some of the ~100 resources would give up after 6 attempts
    # (0.6^7 each); as pauses for everyone, none does (0.6^41).
    policy = RetryPolicy(max_cooldowns=40, base_delay=0.001, max_delay=0.01)

    async def scenario() -> tuple[Sim, CrawlStats]:
        async with run_sim(workouts=40, seed=14, faults=Faults(p_503=0.6, seed=14)) as sim:
            return sim, await crawl_into(sim, tmp_path / "archive", retry=policy)

    sim, stats = asyncio.run(scenario())
    assert stats.failures == []
    refused = [r for r in sim.api_log() if r.status == 503]
    assert len(refused) > 100 and stats.pauses >= 0.9 * len(refused)
    assert_everything_archived_as_served(sim, tmp_path / "archive")


def test_a_resource_refused_with_nothing_else_asked_for_is_told_apart_by_asking_the_profile(
    tmp_path: Path,
) -> None:
    member = Member(seed=10, workouts=20, in_progress=False)
    victim = member.workout_ids()[3]
    graph = f"/api/workout/{victim}/performance_graph"
    policy = RetryPolicy(base_delay=0.001, max_delay=0.01)  # max_attempts 6, max_cooldowns 20
    root = tmp_path / "archive"

    async def scenario() -> tuple[Sim, CrawlStats, int]:
        async with run_sim(member=member, faults=Faults(down_paths=(graph,))) as sim:
            await crawl_into(sim, root, retry=policy, history_csv=False)
            mark = len(sim.api_log())
            # The second run has that graph alone to ask for: nothing else is served meanwhile
            # to tell an overloaded API from one failing resource, so the crawler asks /api/me.
            stats = await crawl_into(sim, root, retry=policy, history_csv=False)
            return sim, stats, mark

    sim, stats, mark = asyncio.run(scenario())
    second = sim.api_log()[mark:]
    # The first refusal paused everyone; from the second on, the graph's own error, retried
    # with backoff up to max_attempts: nobody paused again.
    assert stats.failures == [
        f"performance_graph {victim}: HTTP 503 with a body that is not JSON; "
        "gave up after 7 attempts"
    ]
    assert stats.pauses == 1
    assert [r.status for r in second if r.path == graph] == [503] * 7
    # The run's own /api/me, then one whenever nothing had been served since the graph's last
    # refusal: an ask served after one refusal still tells the next one, so every other.
    asked = [
        r.path.removeprefix("/api/").split("/")[0] for r in second if r.path in (graph, "/api/me")
    ]
    assert asked == ["me", "workout", "workout", "me", "workout", "workout", "me", "workout",
                     "workout", "me", "workout"]  # fmt: skip
    assert {r.status for r in second if r.path == "/api/me"} == {200}
    # Every ask is recorded, as every request is.
    everyone = [r for r in sim.api_log() if r.path == "/api/me"]
    assert len(list(open_archive(root).captures_of_kind("me"))) == len(everyone)


@pytest.mark.parametrize("bad_id", ["../../x", "a" * 5000, "0123456789ABCDEFGHIJ0123456789ab"])
def test_suspicious_ids_in_answers_never_reach_a_url(tmp_path: Path, bad_id: str) -> None:
    async def scenario() -> Sim:
        async with run_sim(workouts=5, seed=12) as sim:
            original = sim.member.workouts_page

            def hostile_page(*args: Any, **kwargs: Any) -> dict:
                page = original(*args, **kwargs)
                if page["data"]:
                    page["data"][0] = {**page["data"][0], "id": bad_id}
                return page

            sim.member.workouts_page = hostile_page  # type: ignore[method-assign]
            stats = await crawl_into(sim, tmp_path / "archive")
            assert stats.failures == []
            return sim

    sim = asyncio.run(scenario())
    assert not any(bad_id in r.path for r in sim.api_log())
    assert all(r.path.startswith("/api/") for r in sim.api_log())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_a_pasted_token_expiring_mid_crawl_stops_the_run_with_a_login_error(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with run_sim(workouts=80, seed=13, faults=Faults(expire_tokens_every=40)) as sim:
            # A pasted token has no refresh token: the workers cannot carry on, and must not hang.
            with pytest.raises(LoginError, match="pasted access token was rejected"):
                await asyncio.wait_for(crawl_into(sim, tmp_path / "archive", concurrency=4), 60)

    asyncio.run(scenario())
    [run] = open_archive(tmp_path / "archive").runs.values()
    assert run.outcome == "failed"
    assert verify_archive(open_archive(tmp_path / "archive"), read_data=True).clean


GRAPHS = "/api/workout/*/performance_graph"
# Quick retries, a probe every 0.02 s while a kind is down, given up after 0.3 s of it.
QUICK_OUTAGES = RetryPolicy(
    base_delay=0.001, max_delay=0.02, outage_probe_every=0.02, outage_patience=0.3
)


def test_when_every_graph_is_refused_the_rest_is_fetched_and_the_graphs_are_left_for_later(
    tmp_path: Path,
) -> None:
    # Every graph answers 503 (no Retry-After) while details and classes are served: the kind
    # is down. Pausing everyone for each graph, as for an overloaded API, took hours.
    policy = QUICK_OUTAGES
    root = tmp_path / "archive"

    async def scenario() -> tuple[Sim, CrawlStats, CrawlStats, int]:
        member = Member(seed=4, workouts=40, in_progress=False)
        async with run_sim(member=member, faults=Faults(down_paths=(GRAPHS,))) as sim:
            first = await crawl_into(sim, root, retry=policy)
            sim.faults.down_paths = ()  # the graphs are back
            mark = len(sim.api_log())
            second = await crawl_into(sim, root, retry=policy)
            return sim, first, second, mark

    sim, first, second, mark = asyncio.run(scenario())
    ids = sim.member.workout_ids()
    reason = re.compile(
        r"performance_graph (\w+): not fetched: the API refused every performance_graph "
        r"\(HTTP 503\) for \d+ s while it answered other requests; run fetch again later"
    )
    found = [reason.fullmatch(failure) for failure in first.failures]
    assert all(found), first.failures
    assert sorted(f[1] for f in found if f) == sorted(ids)
    assert first.workouts == len(ids) and first.graphs == 0 and first.rides > 10
    asked = requests_by_kind(sim)  # both runs
    first_graphs = asked["graph"] - len(ids)
    # Until the kind was down (8 refusals in a row, and the workers' requests already out),
    # then a probe every 0.02 s for outage_patience (0.3 s), give or take.
    assert 8 + 3 <= first_graphs <= 8 + 8 + 0.3 / 0.02 + 8, first_graphs
    assert first.pauses <= 16
    # The next run asks for the graphs, and for nothing else: the details and classes are in.
    assert second.failures == [] and second.graphs == len(ids)
    again = requests_by_kind(sim, since=mark)
    assert again["graph"] == len(ids) and again["workout"] == again["ride"] == 0
    assert_everything_archived_as_served(sim, root)


def test_a_retry_after_from_a_kind_put_aside_still_pauses_everyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The graphs are down (503), and the API rate-limits them alone: a 429 is the API speaking
    # for itself, whichever kind of request it answers, so even one to a graph (one asked for
    # before the kind was put aside, or a probe of it) stops every request until it passes.
    faults = Faults(down_paths=(GRAPHS,), rate_limit=4.0, rate_limited_paths=(GRAPHS,))

    sim, stats, wire = watched_crawl(
        monkeypatch, tmp_path, faults, QUICK_OUTAGES, workouts=30, seed=6
    )
    limited = [r.path for r in sim.api_log() if r.fault == "rate_limit"]
    assert limited and all(path.endswith("/performance_graph") for path in limited), limited
    assert len(wire.told_to_wait) == len(limited)
    assert_no_request_began_while_told_to_wait(wire)
    # The graphs are left for later, and everything else is in.
    ids = sim.member.workout_ids()
    assert stats.workouts == len(ids) and stats.graphs == 0
    assert len(stats.failures) == len(ids)
    assert all("performance_graph" in failure for failure in stats.failures), stats.failures


def test_graphs_put_aside_while_refused_are_fetched_when_they_come_back(tmp_path: Path) -> None:
    policy = dataclasses.replace(QUICK_OUTAGES, outage_patience=60.0)
    root = tmp_path / "archive"

    async def scenario() -> tuple[Sim, CrawlStats, Any]:
        async with run_sim(workouts=40, seed=5, faults=Faults(down_paths=(GRAPHS,))) as sim:

            async def recover_once_refused() -> None:
                while sum(r.status == 503 for r in sim.api_log()) < 20:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.2)
                sim.faults.down_paths = ()

            recovery = asyncio.create_task(recover_once_refused())
            # Bounded: were probes never sent, the crawl would wait out its patience (60 s).
            stats = await asyncio.wait_for(crawl_into(sim, root, retry=policy), timeout=30)
            await asyncio.wait_for(recovery, timeout=1)
            return sim, stats, recovery

    sim, stats, _ = asyncio.run(scenario())
    assert stats.failures == []
    assert stats.graphs == len(sim.member.workout_ids()) and stats.pauses <= 16
    # Each graph was asked for until served, and never once more.
    served = [r.path for r in sim.api_log() if r.status == 200 and r.path.endswith("graph")]
    assert sorted(served) == sorted(set(served)) and len(served) == len(sim.member.workout_ids())
    assert_everything_archived_as_served(sim, root)


def test_the_summary_lists_many_failures_of_one_kind_and_reason_in_a_line() -> None:
    down = [f"performance_graph g{i}: not fetched: refused" for i in range(12)]
    few = [f"workout w{i}: HTTP 500; gave up after 6 attempts" for i in range(10)]
    assert _grouped([*down[:6], *few, *down[6:], "me me: HTTP 400"]) == [
        "performance_graph g0, g1, g2 and 9 more: not fetched: refused",
        *few,
        "me me: HTTP 400",
    ]
    # The progress line says what waits, and why.
    stats = CrawlStats()
    stats.put_aside["performance_graph"] += 3
    assert progress_line(stats).endswith("  put aside 3 (performance_graph refused)")


def test_a_full_run_with_graphs_and_classes_refused_asks_for_each_detail_once(
    tmp_path: Path,
) -> None:
    policy = QUICK_OUTAGES
    root = tmp_path / "archive"
    rides = "/api/ride/*/details"

    async def scenario() -> tuple[Sim, CrawlStats, CrawlStats, int, int]:
        member = Member(seed=6, workouts=40, in_progress=False)
        async with run_sim(member=member) as sim:
            await crawl_into(sim, root, retry=policy)
            sim.faults.down_paths = (GRAPHS, rides)
            mark = len(sim.api_log())
            full = await crawl_into(sim, root, retry=policy, full=True)
            sim.faults.down_paths = ()
            again = len(sim.api_log())
            last = await crawl_into(sim, root, retry=policy, full=True)
            return sim, full, last, mark, again

    sim, full, last, mark, again = asyncio.run(scenario())
    ids = sim.member.workout_ids()
    details = [r.path for r in sim.api_log()[mark:again] if r.path.count("/") == 3]
    assert sorted(details) == sorted(f"/api/workout/{i}" for i in ids)  # each once
    classes = {r.path for r in sim.api_log()[:mark] if r.path.startswith("/api/ride/")}
    kinds = Counter(f.split(" ")[0] for f in full.failures)
    assert kinds == {"performance_graph": len(ids), "ride_details": len(classes)}  # each once
    assert all(f.endswith("run fetch --full again later") for f in full.failures), full.failures
    assert last.failures == [] and last.graphs == len(ids)
    assert {r.path for r in sim.api_log()[again:] if r.path.startswith("/api/ride/")} == classes
    assert_everything_archived_as_served(sim, root)
