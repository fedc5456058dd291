"""`pelodump demo`: the whole product against a simulated member, with no account and no setup.

It starts the simulator on free loopback ports and runs the code a real backup runs: the Auth0
login with the demo member's password, the crawl into a real archive, and the table build. Only the
credentials differ: they are the demo member's, handed over directly, so a PELOTON_TOKEN in the
user's environment is never sent to the simulator, and the token cache is a temporary one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import polars as pl

from pelodump.archive import Archive, open_archive
from pelodump.crawl import CrawlOptions, fetch_history, summary
from pelodump.errors import EXIT_OK, EXIT_PROBLEMS, PelodumpError
from pelodump.progress import CrawlStats
from pelodump.sim.faults import Faults
from pelodump.sim.server import run_sim
from pelodump.tables import build_tables, check_out_dir

DEMO_SEED = 2026
# A little latency, so the crawl behaves as over a network; the rate keeps the default demo of 150
# workouts (about 350 requests) well under 30 seconds.
DEMO_FAULTS = Faults(latency_ms=10.0, jitter_ms=20.0)
DEMO_RATE = 50.0


async def fetch_demo_member(archive: Archive, workouts: int, cache_dir: Path) -> CrawlStats:
    async with run_sim(workouts=workouts, seed=DEMO_SEED, faults=DEMO_FAULTS) as sim:
        print(f"simulated Peloton API at {sim.api_url}, login at {sim.auth_url}", file=sys.stderr)
        options = CrawlOptions(api_url=sim.api_url, rate=DEMO_RATE, concurrency=8)
        with archive.begin_run({**options.for_the_record(), "demo": True}) as run:
            stats = await fetch_history(
                run,
                options,
                auth_url=sim.auth_url,
                environ={
                    "PELOTON_USERNAME": sim.member.username,
                    "PELOTON_PASSWORD": sim.member.password,
                },
                cache_dir=cache_dir,
                prompt=False,
                progress=sys.stderr,
            )
            print(summary(stats, run))
    return stats


def describe_tables(workouts: pl.DataFrame) -> str:
    per_discipline = (
        workouts.group_by("fitness_discipline")
        .len(name="workouts")
        .sort(["workouts", "fitness_discipline"], descending=[True, False])
    )
    newest = (
        workouts.sort("start_time", descending=True)
        .head(5)
        .select(
            pl.col("start_time").dt.strftime("%Y-%m-%d %H:%M").alias("start (UTC)"),
            pl.col("fitness_discipline").alias("discipline"),
            "title",
            (pl.col("duration_s") / 60).round(1).alias("minutes"),
            "total_output_kj",
            pl.col("distance_km").round(2),
            "avg_heart_rate_bpm",
        )
    )
    with pl.Config(
        tbl_rows=20, tbl_width_chars=160, fmt_str_lengths=30, tbl_hide_dataframe_shape=True
    ):
        return f"workouts per discipline:\n{per_discipline}\n\nnewest workouts:\n{newest}"


def run_demo_command(args: argparse.Namespace) -> int:
    if not 0 <= args.workouts <= 1_000_000:  # what `pelodump sim` allows
        raise PelodumpError("demo: --workouts must be between 0 and 1000000")
    check_out_dir(args.out)  # now, not after the fetch
    archive = open_archive(args.archive, create=True)
    with tempfile.TemporaryDirectory(prefix="pelodump-demo-") as cache_dir:
        stats = asyncio.run(fetch_demo_member(archive, args.workouts, Path(cache_dir)))
    report = build_tables(archive, args.out, "parquet")
    print()
    print(describe_tables(pl.read_parquet(report.files["workouts"])))
    print()
    print(f"archive (raw JSON, content-addressed): {archive.root}/")
    print(f"  what it holds: pelodump status --archive {archive.root}")
    print(f"tables ({', '.join(report.files)}): {args.out}/")
    print(f'in a notebook: pelodump.read_workouts("{archive.root}")')
    print("back up your own history: PELOTON_USERNAME=you@example.com pelodump fetch")
    return EXIT_PROBLEMS if stats.failures or report.skipped else EXIT_OK
