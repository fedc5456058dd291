"""The command line: help for every subcommand, one-line errors, documented exit codes."""

import os
import subprocess
import sys
from pathlib import Path

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


# Should a check ever slip, the fetch finds nothing listening here (never the real API).
_NOWHERE = ["--api-url", "http://127.0.0.1:9", "--auth-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch", *_NOWHERE, "--rate", "inf"], "--rate must be a positive number"),
        (["fetch", *_NOWHERE, "--rate", "nan"], "--rate must be a positive number"),
        (["fetch", *_NOWHERE, "--rate", "0"], "--rate must be a positive number"),
        (["fetch", *_NOWHERE, "--every-n", "1" + "0" * 20], "--every-n must be 0 to 86,400"),
        *(
            (["fetch", *_NOWHERE, option, url], f"{option} must be an http(s) URL with a host")
            for option in ("--api-url", "--auth-url")
            for url in (
                "notaurl",
                "http://",
                "http://[::1",
                "http://127.0.0.1:99999",
                "ftp://x",
                "http://127.0.0.1:9 ",
            )
        ),
        (["demo", "--workouts", "-1"], "demo: --workouts must be between 0 and 1000000"),
        (["demo", "--out", __file__], f"cannot write tables to {__file__}: not a directory"),
    ],
)
def test_out_of_range_values_are_refused_before_anything_is_touched(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("PELOTON_TOKEN", "not-a-real-token")  # no login prompt before the check
    assert main([*args, "--archive", str(tmp_path / "archive")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "archive").exists()


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


_SHOW_POLARS_SETTINGS = (
    "from pelodump.cli import tune_polars_for_build; tune_polars_for_build(); "
    "import os, polars; print(polars.thread_pool_size(), os.environ['_RJEM_MALLOC_CONF'])"
)


def test_build_tunes_polars_threads_and_allocator_unless_the_user_chose() -> None:
    """polars reads POLARS_MAX_THREADS and merges `_RJEM_MALLOC_CONF` into its own allocator
    settings when it is imported: the build's choices must reach it, and a user's own must win."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"_RJEM_MALLOC_CONF", "POLARS_MAX_THREADS"}
    }
    cpus = len(os.sched_getaffinity(0))
    ours = subprocess.run(
        [sys.executable, "-c", _SHOW_POLARS_SETTINGS], env=env, capture_output=True, text=True
    )
    threads, allocator = ours.stdout.split()
    assert int(threads) == max(1, cpus - 1), ours
    assert allocator.endswith(f",narenas:{cpus},tcache:false"), ours
    theirs = subprocess.run(
        [sys.executable, "-c", _SHOW_POLARS_SETTINGS],
        env=env | {"_RJEM_MALLOC_CONF": "narenas:3", "POLARS_MAX_THREADS": "3"},
        capture_output=True,
        text=True,
    )
    threads, allocator = theirs.stdout.split()
    assert int(threads) == 3, theirs
    assert allocator.endswith(",narenas:3"), theirs


def test_a_reader_that_goes_away_early_is_no_error(tmp_path: Path) -> None:
    """`pelodump status | head -1`: the pipe closes before status writes; no traceback."""
    from pelodump.archive import open_archive

    open_archive(tmp_path / "archive", create=True)
    status = subprocess.Popen(
        [sys.executable, "-m", "pelodump", "status", "--archive", str(tmp_path / "archive")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert status.stdout is not None and status.stderr is not None
    status.stdout.close()  # the reader is gone before the first line
    assert status.wait(timeout=60) == 141
    assert status.stderr.read() == b""
