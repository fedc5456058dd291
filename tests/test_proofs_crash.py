"""Proof that `pelodump fetch` survives being killed: a real process, SIGKILLed at random moments
and resumed each time, ends with exactly the archive one uninterrupted run makes, without
repeating finished work; Ctrl-C stops it at once and marks the run interrupted."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from helpers import crawl_into

from pelodump.archive import open_archive
from pelodump.cli import main
from pelodump.progress import CrawlStats
from pelodump.sim.member import Member
from pelodump.sim.server import RequestRecord, Sim, run_sim, sim_in_thread
from pelodump.throttle import RetryPolicy

SEED, WORKOUTS = 31, 150
RATE, CONCURRENCY = 200.0, 4
CONTENT = ("workout", "performance_graph", "ride_details")


def fetch_process(sim: Sim, root: Path, config: Path, cwd: Path) -> subprocess.Popen[str]:
    """`pelodump fetch` in its own process, logging in with a password, tokens cached in config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PELOTON_", "PELODUMP_"))}
    env |= {
        "PELOTON_USERNAME": sim.member.username,
        "PELOTON_PASSWORD": sim.member.password,
        "PELODUMP_CONFIG_DIR": str(config),
    }
    command = [
        sys.executable, "-m", "pelodump", "fetch", "--archive", str(root), "--quiet",
        "--api-url", sim.api_url, "--auth-url", sim.auth_url,
        "--rate", str(RATE), "--concurrency", str(CONCURRENCY),
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stderr == "" and "0 failed" in stdout
    return stdout, stderr


QUICK = RetryPolicy(max_attempts=2, base_delay=0.001)


def kind_of(record: RequestRecord) -> str:
    if record.path == "/api/me":
        return "me"
    if record.path.endswith("/workouts"):
        return "page"
    if record.path.endswith("/workout_history_csv"):
        return "csv"
    if record.path.endswith("/performance_graph"):
        return "performance_graph"
    if record.path.startswith("/api/workout/"):
        return "workout"
    if record.path.startswith("/api/ride/"):
        return "ride_details"
    raise AssertionError(f"unexpected request {record.path}")


def requests_by_kind(sim: Sim) -> Counter[str]:
    return Counter(kind_of(record) for record in sim.api_log())


def archived(root: Path) -> dict[tuple[str, str], tuple[int | None, str | None]]:
    """(kind, key) -> (status, blob) of the latest capture of every workout, graph and class."""
    archive = open_archive(root)
    return {
        (kind, key): (capture.status, capture.blob)
        for kind in CONTENT
        for key, capture in archive.latest_of_kind(kind, ok_only=False).items()
    }


def wait_for_requests(sim: Sim, process: subprocess.Popen[str], count: int) -> None:
    """Until the simulator has answered `count` requests in all, or the process has ended."""
    while len(sim.log) < count and process.poll() is None:
        time.sleep(0.002)


def test_fetch_killed_at_random_moments_and_resumed_ends_as_one_uninterrupted_run(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"  # every process runs here: it must stay empty
    work.mkdir()

    with sim_in_thread(member=Member(seed=SEED, workouts=WORKOUTS, in_progress=False)) as sim:
        finish(fetch_process(sim, tmp_path / "whole", tmp_path / "config-whole", work))
        whole = requests_by_kind(sim)

    rng = random.Random(5)
    root = tmp_path / "archive"
    kills = 0
    with sim_in_thread(member=Member(seed=SEED, workouts=WORKOUTS, in_progress=False)) as sim:
        while kills < 12:
            process = fetch_process(sim, root, tmp_path / "config", work)
            if rng.random() < 0.25:  # anywhere, even while starting up or logging in
                time.sleep(rng.uniform(0.0, 0.6))
            else:  # in the thick of it: after a random number of answers
                wait_for_requests(sim, process, len(sim.log) + rng.randint(1, 30))
                time.sleep(rng.uniform(0.0, 0.01))
            if process.poll() is not None:
                break  # finished before the kill: the sequence is over early
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            # Every killed run's log is readable: no torn record, no record naming a missing blob
            # (exit 2 when the kill came before the archive was even created).
            created = (root / "pelodump-archive.json").exists()
            assert main(["verify", "--archive", str(root)]) == (0 if created else 2)
        else:
            process = fetch_process(sim, root, tmp_path / "config", work)
        finish(process)
        resumed = requests_by_kind(sim)

    assert kills >= 10
    assert archived(root) == archived(tmp_path / "whole")
    assert len(archived(root)) > 2 * WORKOUTS
    assert list((root / "tmp").iterdir()) == []
    assert main(["verify", "--archive", str(root), "--read-data"]) == 0
    assert list(work.iterdir()) == []
    runs = open_archive(root).runs.values()
    assert [run.outcome for run in runs].count("complete") == 1
    killed_mid_crawl = [run for run in runs if run.outcome is None and run.captures > 1]
    assert len(killed_mid_crawl) >= 6  # most kills came while work was being archived

    # Repeated work: a kill may waste only what was in flight. Each of the CONCURRENCY workers
    # has at most one workout, graph or class request out at a time; its answer may reach the
    # simulator (and its count) but not the archive, so the next run asks again. Everything
    # archived is never asked for again. The lister's page in flight is covered by a coarser
    # bound: the next run walks the pages again from page 0 unless the killed one got as far as
    # labelling its walk, so it lists at most a whole walk plus the final look at the top, which
    # is exactly what the uninterrupted run asked for. /api/me and the CSV are once per run.
    content_whole = sum(whole[kind] for kind in CONTENT)
    content_resumed = sum(resumed[kind] for kind in CONTENT)
    assert content_resumed <= content_whole + CONCURRENCY * kills, (whole, resumed)
    per_kill = CONCURRENCY + whole["page"] + whole["me"] + whole["csv"]
    assert resumed.total() <= whole.total() + per_kill * kills, (whole, resumed)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_fetch_at_once_marks_the_run_interrupted_and_a_rerun_completes(
    tmp_path: Path, stop: signal.Signals
) -> None:
    root, work = tmp_path / "archive", tmp_path / "work"
    work.mkdir()
    with sim_in_thread(member=Member(seed=SEED, workouts=60, in_progress=False)) as sim:
        process = fetch_process(sim, root, tmp_path / "config", work)
        wait_for_requests(sim, process, len(sim.log) + 20)
        # From now on every answer takes 4 s: when Ctrl-C comes, requests are in flight, and a
        # fetch that waited for them instead of cancelling them would take too long.
        sim.faults.latency_ms = 4000.0
        time.sleep(0.3)
        assert process.poll() is None
        process.send_signal(stop)  # SIGTERM: from `timeout` or systemd, as Ctrl-C
        stdout, stderr = process.communicate(timeout=2.0)
        assert process.returncode == 130 and stdout == ""
        assert stderr.startswith("pelodump: interrupted") and stderr.count("\n") == 1
        [log] = (root / "runs").glob("*.jsonl")
        last = orjson.loads(log.read_bytes().splitlines()[-1])
        assert (last["type"], last["outcome"]) == ("run_end", "interrupted")

        sim.faults.latency_ms = 0.0
        finish(fetch_process(sim, root, tmp_path / "config", work))
        archive = open_archive(root)
        for workout_id in sim.member.workout_ids():
            assert archive.latest("performance_graph", workout_id) is not None
    assert main(["verify", "--archive", str(root), "--read-data"]) == 0
    assert list(work.iterdir()) == []


def test_a_class_left_unfetched_by_an_earlier_run_is_fetched_by_the_next(tmp_path: Path) -> None:
    """A run that ends (killed, or giving up) after a workout's graph but before its class leaves
    a workout that is otherwise done: the next run must still fetch the class, and only that."""

    async def scenario() -> None:
        async with run_sim(member=Member(seed=SEED, workouts=20, in_progress=False)) as sim:
            healthy = sim.member.ride_details

            def broken(ride_id: str) -> dict | None:
                raise web.HTTPInternalServerError()

            sim.member.ride_details = broken  # type: ignore[method-assign]
            first = await crawl_into(sim, tmp_path / "archive", rate=500.0, retry=QUICK)
            assert first.failures and all(f.startswith("ride_details") for f in first.failures)
            sim.member.ride_details = healthy  # type: ignore[method-assign]
            mark = len(sim.log)
            second = await crawl_into(sim, tmp_path / "archive", rate=500.0, retry=QUICK)
            assert second.failures == []
            fetched = Counter(kind_of(record) for record in sim.api_log()[mark:] if record.api)
            assert fetched["workout"] == fetched["performance_graph"] == 0
            assert fetched["ride_details"] == len(first.failures)

    asyncio.run(scenario())


def test_a_fetch_killed_while_creating_the_archive_is_resumed_by_the_next(tmp_path: Path) -> None:
    """A kill before pelodump-archive.json is in place leaves empty directories and perhaps the
    format file's temp file: not an archive yet, nor anybody else's, so the next run goes on."""
    root = tmp_path / "archive"
    for name in ("objects", "runs", "tmp"):
        (root / name).mkdir(parents=True)
    (root / "tmp" / ".write-k1ll3d").write_bytes(b'{"format": "pelod')

    async def scenario() -> CrawlStats:
        async with run_sim(member=Member(seed=SEED, workouts=5, in_progress=False)) as sim:
            return await crawl_into(sim, root, rate=500.0, retry=QUICK)

    assert asyncio.run(scenario()).failures == []
    assert list((root / "tmp").iterdir()) == []
    assert main(["verify", "--archive", str(root), "--read-data"]) == 0
