"""The command line: help for every subcommand, one-line errors, documented exit codes."""

import os
import subprocess
import sys

import pytest

from pelodump.cli import main

SUBCOMMANDS = ["fetch", "build", "verify", "status", "sim", "demo"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pelodump", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help_with_summary_and_examples(name: str) -> None:
    result = run(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "examples:" in result.stdout
    assert f"pelodump {name}" in result.stdout


def test_top_level_help_lists_subcommands_and_exit_codes() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout
    assert "exit codes" in result.stdout


def test_unknown_subcommand_is_one_line_and_exit_2() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_bad_option_value_is_one_line_and_exit_2() -> None:
    result = run("fetch", "--rate", "fast")
    assert result.returncode == 2
    assert result.stderr.startswith("pelodump: error:")
    assert result.stderr.count("\n") == 1


def test_no_subcommand_prints_help_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "commands" in capsys.readouterr().err


def test_debug_shows_the_traceback_that_is_otherwise_one_line(tmp_path) -> None:
    missing = str(tmp_path / "nowhere")
    plain = run("status", "--archive", missing)
    assert plain.returncode == 2
    assert (
        plain.stderr
        == f"pelodump: error: no archive at {missing} (run 'pelodump fetch' or 'pelodump demo')\n"
    )
    debug = run("status", "--archive", missing, "--debug")
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr and "ArchiveError" in debug.stderr


_SHOW_POLARS_ALLOCATOR = (
    "from pelodump.cli import use_lean_allocator; use_lean_allocator(); "
    "import os, polars; print(os.environ['_RJEM_MALLOC_CONF'])"
)


def test_build_asks_polars_for_a_lean_allocator_unless_the_user_chose_one() -> None:
    """polars merges `_RJEM_MALLOC_CONF` into its own allocator settings when it is imported:
    the build's choice must reach it, and a user's own setting must win."""
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    ours = subprocess.run(
        [sys.executable, "-c", _SHOW_POLARS_ALLOCATOR], env=env, capture_output=True, text=True
    )
    assert ours.stdout.strip().endswith(f",narenas:{os.cpu_count()},tcache:false"), ours
    theirs = subprocess.run(
        [sys.executable, "-c", _SHOW_POLARS_ALLOCATOR],
        env=env | {"_RJEM_MALLOC_CONF": "narenas:3"},
        capture_output=True,
        text=True,
    )
    assert theirs.stdout.strip().endswith(",narenas:3"), theirs
