"""`pelodump demo` in a fresh directory: the whole product end to end, as a new user sees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from pelodump.archive import open_archive
from pelodump.verify import verify_archive


def run_demo(directory: Path) -> subprocess.CompletedProcess[str]:
    # A user's own token in the environment must not matter: the demo logs in as its member.
    env = {**os.environ, "PELOTON_TOKEN": "a-real-users-token-must-not-be-used"}
    return subprocess.run(
        [sys.executable, "-m", "pelodump", "demo", "--workouts", "40"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_fetches_builds_and_tells_the_user_where_everything_is(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "workouts per discipline:" in result.stdout
    assert "pelodump fetch" in result.stdout  # how to back up one's own history
    workouts = pl.read_parquet(tmp_path / "demo-tables" / "workouts.parquet")
    assert workouts.height == 40
    assert {"cycling", "running", "caesar"} <= set(workouts["fitness_discipline"])
    archive = open_archive(tmp_path / "demo-archive")
    assert len(archive.latest_of_kind("performance_graph")) == 40
    assert verify_archive(archive, read_data=True).clean
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-archive", "demo-tables"]

    again = run_demo(tmp_path)
    assert again.returncode == 0, again.stderr
    assert "(39 workouts already archived)" in again.stdout  # only the one in progress again
