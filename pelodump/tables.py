"""`pelodump build` and the notebook API: tidy polars tables from the archive, offline.

Everything here reads the archive alone; it never touches the network (nor imports what does).
The tables are built from the latest successful capture of each workout, performance graph,
workouts page and class (ride details), batch by batch so that memory stays flat however long
the history: a batch of a few dozen workouts is turned into polars columns where it was parsed,
becomes frames on a worker thread (one polars call, while the next batch is read), is handed
to each table's file as it is being written (a polars sink per table, on a thread of its own),
and is dropped; at the end the files are renamed into place.

Notebook use:

    import pelodump
    workouts = pelodump.read_workouts("archive", discipline="cycling", since="2024-01-01")
    samples = pelodump.scan_samples("archive").filter(pl.col("heart_rate_bpm") > 150).collect()

What each table holds: see transform.py.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gc
import os
import queue
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson
import polars as pl
from polars.io.plugins import register_io_source

from pelodump.archive import Archive, Capture, open_archive
from pelodump.errors import EXIT_OK, EXIT_PROBLEMS, PelodumpError
from pelodump.transform import (
    SCHEMAS,
    GraphBatch,
    ride_refs,
    ride_row,
    rides_frame,
    rows_frame,
    workout_row,
    workouts_frame,
)
from pelodump.units import utc_time

FORMATS = ("parquet", "csv", "ndjson")  # each written by polars' sink_<format>
TABLES = ("workouts", "samples", "metrics_long", "segments", "locations", "rides")
_GRAPH_TABLES = {"workouts", "samples", "metrics_long", "segments", "locations"}

# Values a batch holds before it becomes frames: about 20 per-second workouts. Measured on
# bench/build.py (3,000 workouts): 250,000 costs ~25 MB more at the peak for ~6% less time,
# 100,000 ~10 MB less for ~20% more time.
BATCH_VALUES = 150_000

# The API calls the Row "caesar"; let people say what they mean.
_DISCIPLINE_ALIASES = {"rowing": "caesar", "row": "caesar"}


# --- what to build ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which workouts to build: by fitness discipline and by start time (UTC)."""

    disciplines: frozenset[str] | None = None
    since: datetime | None = None

    @classmethod
    def parse(
        cls,
        disciplines: str | Iterable[str] | None = None,
        since: str | date | datetime | None = None,
    ) -> Selection:
        """From the command line's or a notebook's values; PelodumpError for a bad date or a
        discipline that is not a name."""
        names = [disciplines] if isinstance(disciplines, str) else disciplines
        if names is not None:
            names = list(names) if isinstance(names, Iterable) else [names]
            if not all(isinstance(name, str) for name in names):
                raise PelodumpError(
                    f"discipline: {disciplines!r} is not a name or a list of names, "
                    "such as 'cycling'"
                )
        chosen = None
        if names:
            chosen = frozenset(
                _DISCIPLINE_ALIASES.get(d.strip().lower(), d.strip().lower()) for d in names
            )
        return cls(chosen, _parse_since(since))

    @property
    def active(self) -> bool:
        return self.disciplines is not None or self.since is not None

    def keeps(self, detail: dict[str, Any] | None) -> bool:
        """Whether a workout is selected; one whose detail is unknown is kept only when no
        filter is set (there is nothing to filter it on)."""
        if not self.active:
            return True
        if detail is None:
            return False
        if self.disciplines is not None:
            discipline = detail.get("fitness_discipline")
            if not isinstance(discipline, str) or discipline.lower() not in self.disciplines:
                return False
        if self.since is not None:
            start = utc_time(detail.get("start_time"))  # as the start_time column reads it
            return start is not None and start >= self.since
        return True


def _parse_since(since: str | date | datetime | None) -> datetime | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        moment = since
    elif isinstance(since, date):
        moment = datetime(since.year, since.month, since.day)
    else:
        try:
            moment = datetime.fromisoformat(str(since).strip().replace("Z", "+00:00"))
        except ValueError:
            raise PelodumpError(
                f"--since: {since!r} is not a date; use YYYY-MM-DD or an ISO date and time"
            ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# --- reading the archive ------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A capture whose body could not be used."""

    kind: str
    key: str
    reason: str


@dataclass
class BuildReport:
    """What a build produced and what it had to leave out."""

    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    unknown_units: set[tuple[str, str | None]] = field(default_factory=set)
    mismatched_workouts: int = 0
    disciplines: set[str] = field(default_factory=set)  # of every workout read, selected or not
    torn_logs: list[str] = field(default_factory=list)  # run logs whose last line is cut short
    seconds: float = 0.0


def read_json(archive: Archive, capture: Capture | None, report: BuildReport) -> dict | None:
    """A capture's body as a dict, or None (and a line in the report) when it cannot be read."""
    if capture is None or capture.blob is None:
        return None
    reason = None
    try:
        body = orjson.loads(archive.read_blob(capture.blob))
    except FileNotFoundError:
        reason = f"blob {capture.blob} is missing from the archive"
    except orjson.JSONDecodeError as error:
        reason = f"not valid JSON ({error})"
    except (OSError, ValueError) as error:  # CorruptBlob is a ValueError
        reason = f"blob {capture.blob} cannot be read ({error})"
    else:
        if isinstance(body, dict):
            return body
        reason = f"not a JSON object (a {type(body).__name__})"
    report.skipped.append(Skipped(capture.kind, capture.key, reason))
    return None


def _page_items(page: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """The workouts of a workouts page that have an id."""
    data = (page or {}).get("data")
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            yield item


def _listed(archive: Archive, report: BuildReport) -> tuple[dict[str, float], dict[str, Capture]]:
    """From the workouts pages (they overlap when a crawl ran long): every listed workout's
    `created_at`, and the page that lists it (its item stands in for a detail that is missing
    or unreadable)."""
    created: dict[str, float] = {}
    listed_on: dict[str, Capture] = {}
    for capture in archive.latest_of_kind("workouts_page").values():
        for item in _page_items(read_json(archive, capture, report)):
            when = item.get("created_at")
            created[item["id"]] = when if isinstance(when, int | float) else float("inf")
            listed_on[item["id"]] = capture
    return created, listed_on


TableBatch = Callable[[], dict[str, pl.DataFrame]]
Progress = Callable[[int, int], None]  # (workouts read, workouts in the archive)


def iter_batches(
    archive: Archive,
    tables: set[str],
    selection: Selection,
    report: BuildReport,
    progress: Progress | None = None,
) -> Iterator[TableBatch]:
    """The wanted tables, batch by batch: graph tables every BATCH_VALUES values, then the
    workouts table (sorted, complete) and the rides table once each at the end.

    Reading, parsing and making polars columns (the work that holds the GIL) happen here; each
    batch yielded is a function that turns those columns into frames, so a caller can run it on
    another thread while the next batch is read. Call
    them in the order given: the workouts batch uses what the graph batches computed.
    """
    # A run log's damaged line may have held the latest capture of anything: say so. A torn
    # last line is what a run stopped mid-write leaves, and the next fetch redoes its work.
    for problem in archive.log_problems:
        if problem.torn:
            report.torn_logs.append(problem.file)
        else:
            report.skipped.append(Skipped("run log", problem.where, problem.reason))
    details = archive.latest_of_kind("workout")
    graphs = archive.latest_of_kind("performance_graph")
    created, listed_on = _listed(archive, report)
    needs_graph = bool(tables & _GRAPH_TABLES)
    rows: list[dict[str, Any]] = []
    row_frames: list[pl.DataFrame] = []
    intervals: list[pl.DataFrame] = []
    ride_ids: set[str] = set()
    instructor_names: dict[str, str] = {}
    batch = GraphBatch(tables)
    page: tuple[Capture | None, dict[str, dict[str, Any]]] = (None, {})

    def list_item(workout_id: str) -> dict[str, Any] | None:
        """The workout as its page lists it (pages were already read once: they are read
        again only here, for a workout whose detail is missing or unreadable)."""
        nonlocal page
        capture = listed_on.get(workout_id)
        if capture is not None and page[0] is not capture:
            items = _page_items(read_json(archive, capture, BuildReport()))  # reported before
            page = (capture, {item["id"]: item for item in items})
        return page[1].get(workout_id) if capture is not None else None

    def frames_of(batch: GraphBatch) -> TableBatch:
        sealed = batch.seal()  # here, on the thread that parsed: it takes the GIL throughout

        def frames() -> dict[str, pl.DataFrame]:
            tables_, batch_intervals, unknown = sealed.frames()
            if batch_intervals is not None:
                intervals.append(batch_intervals)
            report.unknown_units |= unknown
            return tables_

        return frames

    # Oldest first by the list's created_at where known, so the tables come out in order.
    everyone = set(created) | set(details) | set(graphs)
    ordered = sorted(everyone, key=lambda i: (created.get(i, float("inf")), i))
    for done, workout_id in enumerate(ordered):
        if progress is not None and done % 100 == 0:
            progress(done, len(ordered))
        detail = read_json(archive, details.get(workout_id), report) or list_item(workout_id)
        if isinstance(discipline := (detail or {}).get("fitness_discipline"), str):
            report.disciplines.add(discipline)
        ride_id, instructor_id, instructor = ride_refs(detail)
        if instructor_id is not None and instructor is not None:  # from every workout, selected
            instructor_names[instructor_id] = instructor  # or not: the names do not hang on it
        if not selection.keeps(detail):
            continue
        graph = read_json(archive, graphs.get(workout_id), report) if needs_graph else None
        if detail is None and graph is None:
            continue  # every body of it is unreadable: already reported
        if ride_id is not None:
            ride_ids.add(ride_id)
        if not needs_graph:
            continue
        computed = batch.add(workout_id, graph) if graph is not None else {}
        report.mismatched_workouts += bool(computed.get("metric_length_mismatches"))
        if "workouts" in tables:
            rows.append(workout_row(workout_id, detail, graph) | computed)
            if len(rows) >= 500:  # as a frame: hundreds of bytes a row, not kilobytes
                row_frames.append(rows_frame(rows))
                rows = []
        if batch.size >= BATCH_VALUES:
            yield frames_of(batch)
            batch = GraphBatch(tables)
    if batch.workout_ids:
        yield frames_of(batch)
    if progress is not None:
        progress(len(ordered), len(ordered))

    if "workouts" in tables:
        row_frames.append(rows_frame(rows))
        yield lambda: {
            "workouts": workouts_frame(
                row_frames, pl.concat(intervals) if intervals else None, instructor_names
            )
        }
    if "rides" in tables:
        ride_rows = []
        for ride_id, capture in sorted(archive.latest_of_kind("ride_details").items()):
            if selection.active and ride_id not in ride_ids:
                continue
            ride_details = read_json(archive, capture, report)
            if ride_details is not None:
                ride_rows.append(ride_row(ride_id, ride_details, instructor_names))
        yield lambda: {"rides": rides_frame(ride_rows)}


# --- writing the tables -------------------------------------------------------------------------


class _TableSink:
    """One table's file, written while the batches come: a polars sink on a thread of its own
    takes them from a queue, so encoding overlaps the reading of the next batch and nothing is
    written twice. `close` waits for the file to be complete."""

    def __init__(self, name: str, path: Path, fmt: str) -> None:
        self.rows = 0
        self._frames: queue.Queue[pl.DataFrame | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, args=(name, path, fmt), daemon=True)
        self._thread.start()

    def _write(self, name: str, path: Path, fmt: str) -> None:
        def batches(*_: object) -> Iterator[pl.DataFrame]:
            while (frame := self._frames.get()) is not None:
                yield frame

        lazy = register_io_source(batches, schema=SCHEMAS[name])
        try:
            getattr(lazy, f"sink_{fmt}")(path)
        except BaseException as error:  # handed to the builder's thread by _put and close
            self._error = _os_error_in(error) or error

    def _put(self, frame: pl.DataFrame | None) -> None:
        while self._thread.is_alive():  # a sink that failed takes nothing more
            try:
                self._frames.put(frame, timeout=0.1)
                return
            except queue.Full:
                pass
        if self._error is not None:
            raise self._error

    def add(self, frame: pl.DataFrame) -> None:
        self._put(frame)
        self.rows += frame.height

    def close(self) -> None:
        self._put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _os_error_in(error: BaseException) -> OSError | None:
    """The system's error behind a polars one: a file polars cannot write (disk full, read-only)
    is reported as a ComputeError that ends with the OS error's number."""
    found = re.search(r"\(os error (\d+)\)", str(error))
    return OSError(int(found[1]), os.strerror(int(found[1]))) if found else None


def _lock_tables(out_dir: Path) -> int | None:
    """Hold out_dir's tables for this build: two builds writing the same files would leave
    them torn. The lock is on the directory itself (no file left behind) and ends with the
    process, however it ends. None where the file system cannot lock a directory (NFS and SMB
    lock byte ranges of files open for writing): the build then goes on without."""
    fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise PelodumpError(
            f"another pelodump build is writing tables to {out_dir}; try again when it has finished"
        ) from None
    except OSError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def _interrupts_held_back() -> Iterator[None]:
    """Ctrl-C and SIGTERM, when they come during the block, take effect once it has ended.
    (Signal handlers can only be changed on the main thread: elsewhere nothing is held.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda n, _: received.append(n)) for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        for number in (signal.SIGTERM, signal.SIGINT):  # SIGTERM's default ends the process
            if number in received:
                signal.raise_signal(number)


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before any work, a place for the tables that is a file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PelodumpError(f"cannot write tables to {out_dir}: not a directory")


def build_tables(
    archive: Archive,
    out_dir: Path,
    fmt: str = "parquet",
    selection: Selection | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Write every table to out_dir, one file each; the report says what was built and skipped.
    `progress`, if given, is told every hundred workouts how many have been read."""
    started = time.perf_counter()
    report = BuildReport()
    if fmt not in FORMATS:
        raise PelodumpError(f"no such table format: {fmt!r} (one of {', '.join(FORMATS)})")
    check_out_dir(out_dir)
    paths = {name: out_dir / f"{name}.{fmt}" for name in TABLES}
    temps = {name: out_dir / f".{path.name}.tmp" for name, path in paths.items()}
    sinks: dict[str, _TableSink] = {}
    lock: int | None = None
    writing = False  # whether the temporary files are ours to remove
    # The parsed bodies make millions of short-lived containers and no reference cycles: the
    # cycle collector would only rescan them (measured ~4% of the build's time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = _lock_tables(out_dir)
        writing = True
        sinks = {name: _TableSink(name, temps[name], fmt) for name in TABLES}

        def write(batch: TableBatch) -> None:
            for name, frame in batch().items():
                sinks[name].add(frame)

        # One thread turns batch k into frames for the sinks (polars, without the GIL) while
        # this one reads and parses batch k+1; never more than one batch waits.
        with ThreadPoolExecutor(max_workers=1) as writer:
            in_flight: Future[None] | None = None
            selection = selection or Selection()
            for batch in iter_batches(archive, set(TABLES), selection, report, progress):
                if in_flight is not None:
                    in_flight.result()
                in_flight = writer.submit(write, batch)
            if in_flight is not None:
                in_flight.result()
        for sink in sinks.values():
            sink.close()
        with _interrupts_held_back():  # Ctrl-C cannot leave some tables old, some new
            for name, path in paths.items():
                os.replace(temps[name], path)
        report.files = paths
        report.rows = {name: sink.rows for name, sink in sinks.items()}
    except OSError as error:
        raise PelodumpError(
            f"cannot write tables to {out_dir}: {error.strerror or error}"
        ) from None
    finally:
        for sink in sinks.values():
            with contextlib.suppress(BaseException):
                sink.close()  # after a failure: stop the others' threads
        if writing:  # the temporary files are ours, not another build's
            for temp in temps.values():
                with contextlib.suppress(OSError):  # never hide the error that brought us here
                    temp.unlink()
        if lock is not None:
            os.close(lock)
        if collecting:
            gc.enable()
    report.seconds = time.perf_counter() - started
    return report


def _print_report(
    report: BuildReport, archive_root: Path, out_dir: Path, fmt: str, selection: Selection
) -> None:
    print(
        f"built {len(report.files)} tables from {archive_root} into {out_dir} ({fmt}) "
        f"in {report.seconds:.1f} s:"
    )
    for name, path in report.files.items():
        print(f"  {name:<13} {report.rows[name]:>11,} rows  {path}")
    if report.mismatched_workouts:
        print(
            f"note: {report.mismatched_workouts} workouts have metric values arrays longer or "
            "shorter than their time array; they were cut to the shorter "
            "(see workouts.metric_length_mismatches)"
        )
    if report.unknown_units:
        pairs = ", ".join(
            f"{slug} in {unit!r}" for slug, unit in sorted(report.unknown_units, key=str)
        )
        print(
            f"note: units pelodump cannot convert were left null in samples (the values are in "
            f"metrics_long as sent): {pairs}"
        )
    if report.torn_logs:
        print(
            f"note: {len(report.torn_logs)} run logs end in a record cut short (a run stopped "
            "while writing it; the next fetch fetches again what it held): "
            + ", ".join(report.torn_logs),
            file=sys.stderr,
        )
    if selection.active and not report.rows.get("workouts"):
        print(
            "note: no workout matched --discipline/--since; the archive's disciplines: "
            + (", ".join(sorted(report.disciplines)) or "none"),
            file=sys.stderr,
        )
    if report.skipped:
        print(
            f"skipped {len(report.skipped)} unreadable captures (the rest was built):",
            file=sys.stderr,
        )
        for item in report.skipped[:50]:
            print(f"  {item.kind} {item.key}: {item.reason}", file=sys.stderr)
        if len(report.skipped) > 50:
            print(f"  ... and {len(report.skipped) - 50} more", file=sys.stderr)


@contextlib.contextmanager
def progress_line(stream: TextIO) -> Iterator[Progress | None]:
    """On a terminal, a live line of how many workouts have been read (redrawn a few times a
    second, gone when the build ends, however it ends); elsewhere nothing."""
    if not stream.isatty():
        yield None
        return
    started = time.monotonic()
    shown = 0.0

    def show(done: int, total: int) -> None:
        nonlocal shown
        if (now := time.monotonic()) - shown >= 0.2 or done == total:
            shown = now
            elapsed = now - started
            stream.write(f"\r\033[Kbuilding: {done:,} of {total:,} workouts read, {elapsed:.0f}s")
            stream.flush()

    try:
        yield show
    finally:
        stream.write("\r\033[K")
        stream.flush()


def run_build_command(args: argparse.Namespace) -> int:
    """`pelodump build`: exit 0 when every capture was read, 1 when some had to be skipped."""
    selection = Selection.parse(args.discipline, args.since)
    archive = open_archive(args.archive)
    with progress_line(sys.stderr) as progress:
        report = build_tables(archive, args.out, args.format, selection, progress)
    _print_report(report, args.archive, args.out, args.format, selection)
    return EXIT_PROBLEMS if report.skipped else EXIT_OK


# --- the notebook API ---------------------------------------------------------------------------

Discipline = str | Iterable[str] | None
Since = str | date | datetime | None


def _warn_skipped(report: BuildReport, stacklevel: int) -> None:
    if report.skipped:
        listed = "; ".join(f"{s.kind} {s.key}: {s.reason}" for s in report.skipped[:5])
        more = f" (and {len(report.skipped) - 5} more)" if len(report.skipped) > 5 else ""
        warnings.warn(
            f"pelodump skipped {len(report.skipped)} unreadable captures: {listed}{more}",
            stacklevel=stacklevel + 1,
        )


def _read(table: str, archive: str | Path, discipline: Discipline, since: Since) -> pl.DataFrame:
    selection = Selection.parse(discipline, since)
    report = BuildReport()
    batches = iter_batches(open_archive(archive), {table}, selection, report)
    frames = [frame for batch in batches if (frame := batch().get(table)) is not None]
    _warn_skipped(report, stacklevel=3)  # the user's call of read_<table>
    return pl.concat(frames) if frames else SCHEMAS[table].to_frame()


def _scan(table: str, archive: str | Path, discipline: Discipline, since: Since) -> pl.LazyFrame:
    selection = Selection.parse(discipline, since)
    opened = open_archive(archive)  # fail now, not at collect time, if there is no archive

    def batches(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        _batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        report = BuildReport()
        produced = 0
        try:
            for batch in iter_batches(opened, {table}, selection, report):
                frame = batch().get(table)
                if frame is None:
                    continue
                if predicate is not None:
                    frame = frame.filter(predicate)
                if with_columns is not None:
                    frame = frame.select(with_columns)
                if n_rows is not None:
                    frame = frame.head(n_rows - produced)
                produced += frame.height
                yield frame
                if n_rows is not None and produced >= n_rows:
                    return
        finally:  # what was skipped of what was read, however far the query read
            _warn_skipped(report, stacklevel=1)  # inside polars' collect: no user frame

    return register_io_source(batches, schema=SCHEMAS[table])


def read_workouts(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.DataFrame:
    """One row per workout: Peloton's own figures in metric units (see transform.py)."""
    return _read("workouts", archive, discipline, since)


def read_samples(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.DataFrame:
    """One row per workout per sample, keyed on (workout_id, offset_s); metric units."""
    return _read("samples", archive, discipline, since)


def read_metrics_long(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.DataFrame:
    """Every time-series value as the API sent it: workout_id, offset_s, slug, value, unit."""
    return _read("metrics_long", archive, discipline, since)


def read_segments(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.DataFrame:
    """The class plan of each workout: one row per segment."""
    return _read("segments", archive, discipline, since)


def read_locations(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.DataFrame:
    """GPS points of outdoor workouts."""
    return _read("locations", archive, discipline, since)


def read_rides(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.DataFrame:
    """One row per class whose details the archive holds (with filters: the selected
    workouts' classes)."""
    return _read("rides", archive, discipline, since)


def scan_workouts(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.LazyFrame:
    """read_workouts, lazily: the archive is read when the query is collected."""
    return _scan("workouts", archive, discipline, since)


def scan_samples(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.LazyFrame:
    """read_samples, lazily and batch by batch: a streaming query never holds every sample."""
    return _scan("samples", archive, discipline, since)


def scan_segments(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.LazyFrame:
    """read_segments, lazily."""
    return _scan("segments", archive, discipline, since)


def scan_metrics_long(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.LazyFrame:
    """read_metrics_long, lazily and batch by batch."""
    return _scan("metrics_long", archive, discipline, since)


def scan_locations(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.LazyFrame:
    """read_locations, lazily and batch by batch."""
    return _scan("locations", archive, discipline, since)


def scan_rides(
    archive: str | Path = "archive", *, discipline: Discipline = None, since: Since = None
) -> pl.LazyFrame:
    """read_rides, lazily."""
    return _scan("rides", archive, discipline, since)
