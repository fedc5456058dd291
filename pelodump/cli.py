"""The `pelodump` command line: argument parsing, and one short function per subcommand.

Each `cmd_*` function only translates options into a call to the module that does the work. Errors
the user can act on are `PelodumpError`s: printed as one line on stderr, exit code 2 (or their own);
tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pelodump import __version__
from pelodump.errors import EXIT_INTERRUPTED, EXIT_PIPE_CLOSED, EXIT_USAGE, PelodumpError

DEFAULT_ARCHIVE = Path("archive")


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the examples' line breaks and show defaults."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as every other usage error
        # The error line already begins "pelodump: error:"; name only the subcommand.
        raise PelodumpError(f"{self.prog.removeprefix('pelodump ')}: {message}")


def _subcommand(
    sub: argparse._SubParsersAction, name: str, summary: str, examples: str
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name,
        help=summary,
        description=f"{summary}\n\nexamples:\n{examples}",
        formatter_class=_Formatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def _add_archive_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--archive", type=Path, default=DEFAULT_ARCHIVE, metavar="DIR", help="archive directory"
    )


# --- fetch -------------------------------------------------------------------------------------


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    p = _subcommand(
        sub,
        "fetch",
        "Log in and back up the whole workout history into the archive (resumable).",
        "  PELOTON_USERNAME=me@example.com pelodump fetch\n"
        "  PELOTON_TOKEN=eyJ... pelodump fetch --archive ~/peloton\n"
        "  pelodump fetch --token-file token.txt --rate 5 --concurrency 8\n"
        "  pelodump fetch --full   # re-capture everything, unchanged bodies are stored once\n"
        "\n"
        "credentials, first found wins: PELOTON_TOKEN; --token-file; for PELOTON_USERNAME, the\n"
        "tokens of an earlier login (~/.config/pelodump/tokens.json, mode 0600), else a login\n"
        "with PELOTON_PASSWORD or a password asked on the terminal (hidden input).",
    )
    _add_archive_option(p)
    p.add_argument("--token-file", type=Path, metavar="FILE", help="file holding a bearer token")
    p.add_argument("--api-url", default="https://api.onepeloton.com", help="API base URL")
    p.add_argument("--auth-url", default="https://auth.onepeloton.com", help="login base URL")
    p.add_argument("--rate", type=float, default=4.0, help="requests per second, at most")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight, at most")
    p.add_argument("--every-n", type=int, default=1, metavar="N", help="graph spacing, seconds")
    p.add_argument("--full", action="store_true", help="re-capture everything, not only new work")
    p.add_argument("--no-csv", action="store_true", help="skip Peloton's own history CSV")
    p.add_argument("--quiet", action="store_true", help="print only errors and the summary")
    p.set_defaults(func=cmd_fetch)


def cmd_fetch(args: argparse.Namespace) -> int:
    from pelodump import crawl

    return crawl.run_fetch_command(args)


# --- build -------------------------------------------------------------------------------------


def _add_build(sub: argparse._SubParsersAction) -> None:
    p = _subcommand(
        sub,
        "build",
        "Build tidy tables from the archive, offline.",
        "  pelodump build\n"
        "  pelodump build --out tables --format csv\n"
        "  pelodump build --discipline cycling --discipline running --since 2024-01-01",
    )
    _add_archive_option(p)
    p.add_argument("--out", type=Path, default=Path("tables"), metavar="DIR", help="output dir")
    p.add_argument(
        "--format",
        choices=["parquet", "csv", "ndjson"],
        default="parquet",
        help="file format of the tables",
    )
    p.add_argument(
        "--discipline",
        action="append",
        metavar="D",
        help="only this fitness discipline (repeatable)",
    )
    p.add_argument("--since", metavar="DATE", help="only workouts started on or after DATE")
    p.set_defaults(func=cmd_build)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, as polars counts them), not the
    machine's: a container or `taskset` may allow fewer."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def tune_polars_for_build() -> None:
    """Before polars is imported, set two of its documented variables unless the user set them:

    - `POLARS_MAX_THREADS`: one thread fewer than the CPUs (at least one). A build's parsing
      thread keeps one CPU busy with Python all along; a polars pool as large as the machine
      puts a thread on that CPU too, and the two slow each other down. Measured on
      bench/build.py (2 CPUs, 8 pairs in alternating order): median 3.62 s against 3.92 s,
      0.4 s less CPU time.
    - `_RJEM_MALLOC_CONF` (merged into polars' own allocator defaults): one jemalloc arena per
      CPU instead of four, and no per-thread caches. A build's threads hand frames to each
      other, and every arena and cache kept its own freed memory: measured, 20 MiB less at the
      peak (about an eighth), at the same speed.
    """
    cpus = usable_cpus()
    os.environ.setdefault("POLARS_MAX_THREADS", str(max(1, cpus - 1)))
    os.environ.setdefault("_RJEM_MALLOC_CONF", f"narenas:{cpus},tcache:false")


def cmd_build(args: argparse.Namespace) -> int:
    tune_polars_for_build()
    from pelodump import tables

    return tables.run_build_command(args)


# --- verify and status -------------------------------------------------------------------------


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = _subcommand(
        sub,
        "verify",
        "Check the archive's integrity: records, blobs, and with --read-data every byte.",
        "  pelodump verify\n  pelodump verify --archive ~/peloton --read-data",
    )
    _add_archive_option(p)
    p.add_argument("--read-data", action="store_true", help="decompress and re-hash every blob")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from pelodump import verify

    return verify.run_verify_command(args.archive, read_data=args.read_data)


def _add_status(sub: argparse._SubParsersAction) -> None:
    p = _subcommand(
        sub,
        "status",
        "Summarise the archive: runs, captures, workouts, bytes on disk.",
        "  pelodump status\n  pelodump status --archive ~/peloton",
    )
    _add_archive_option(p)
    p.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from pelodump import status

    return status.run_status_command(args.archive)


# --- sim and demo ------------------------------------------------------------------------------


def _add_sim(sub: argparse._SubParsersAction) -> None:
    p = _subcommand(
        sub,
        "sim",
        "Serve the simulated Peloton API and login on loopback, for tests and trials.",
        "  pelodump sim --port 8080 --workouts 500\n"
        "  pelodump sim --p-503 0.1 --rate-limit 5 --latency-ms 50",
    )
    from pelodump.sim.options import add_sim_arguments

    add_sim_arguments(p)
    p.set_defaults(func=cmd_sim)


def cmd_sim(args: argparse.Namespace) -> int:
    from pelodump.sim import serve

    return serve.run_sim_command(args)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = _subcommand(
        sub,
        "demo",
        "Fetch a simulated member's history and build its tables: pelodump end to end, no account.",
        "  pelodump demo\n  pelodump demo --archive demo-archive --out demo-tables",
    )
    p.add_argument(
        "--archive", type=Path, default=Path("demo-archive"), metavar="DIR", help="archive dir"
    )
    p.add_argument("--out", type=Path, default=Path("demo-tables"), metavar="DIR", help="tables")
    p.add_argument("--workouts", type=int, default=150, help="size of the simulated history")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    tune_polars_for_build()  # the demo ends with a build
    from pelodump import demo

    return demo.run_demo_command(args)


# --- entry point -------------------------------------------------------------------------------

_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_fetch,
    _add_build,
    _add_verify,
    _add_status,
    _add_sim,
    _add_demo,
]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pelodump",
        description="Back up a Peloton workout history as raw JSON; build tables from it offline.",
        epilog="exit codes: 0 success, 1 finished with problems, 2 usage/config/login error, "
        "130 interrupted, 141 output closed early (| head)",
    )
    parser.add_argument("--version", action="version", version=f"pelodump {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


class _LogLine(logging.Formatter):
    """Warnings read like errors: `pelodump: warning: the cached tokens were refused`."""

    def format(self, record: logging.LogRecord) -> str:
        return f"pelodump: {record.levelname.lower()}: {record.getMessage()}"


@contextlib.contextmanager
def _logging_to_stderr(debug: bool) -> Iterator[None]:
    """pelodump's log lines on stderr for the length of a command, then as they were before."""
    logger = logging.getLogger("pelodump")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogLine())
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    level = logger.level
    logger.addHandler(handler)
    if debug:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if not hasattr(args, "func"):
            build_parser().print_help(sys.stderr)
            return EXIT_USAGE
        with _logging_to_stderr(debug):
            return args.func(args)
    except PelodumpError as error:
        if debug:
            raise
        print(f"pelodump: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("pelodump: interrupted (run the same command again to carry on)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `pelodump status | head -1`: the reader has all it wants. Quietly, as other Unix tools:
        # what Python would still flush to the closed pipe at exit goes nowhere instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
