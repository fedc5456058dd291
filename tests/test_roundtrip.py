"""Crawl the simulator, then build: every workout and every point served reaches the tables."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl
from helpers import crawl_into

from pelodump.archive import open_archive
from pelodump.sim.member import Member
from pelodump.sim.server import run_sim
from pelodump.tables import build_tables, read_samples, read_workouts


def test_crawl_then_build_gives_a_row_per_workout_and_per_point_served(tmp_path: Path) -> None:
    member = Member(seed=21, workouts=60, units="metric")

    async def crawl() -> None:
        async with run_sim(member=member) as sim:
            stats = await crawl_into(sim, tmp_path / "archive")
            assert stats.failures == []

    asyncio.run(crawl())
    report = build_tables(open_archive(tmp_path / "archive"), tmp_path / "tables")
    assert report.skipped == []

    workouts = read_workouts(tmp_path / "archive")
    assert sorted(workouts["workout_id"]) == sorted(member.workout_ids())
    assert workouts.height == pl.read_parquet(tmp_path / "tables" / "workouts.parquet").height

    samples = read_samples(tmp_path / "archive")
    served = {
        workout_id: len(member.performance_graph(workout_id, 1)["seconds_since_pedaling_start"])
        for workout_id in member.workout_ids()
    }
    per_workout = dict(samples.group_by("workout_id").len().iter_rows())
    assert {w: n for w, n in served.items() if n} == per_workout
    assert samples.height == sum(served.values())
