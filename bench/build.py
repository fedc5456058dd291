"""How fast `pelodump build` is, and how much memory it takes, on a 3,000-workout history.

    python bench/build.py [--workouts 3000] [--archive DIR] [--repeat 3] [--write-results]

Makes an archive of per-second graphs (or reuses --archive if it already holds one), then, each
in a fresh child process:
- the floor: decompress and orjson-parse every blob the build reads, nothing else;
- the build: `build_tables` from opening the archive to the last file renamed into place.
Reports the median wall time of each, their ratio, and the build's peak RSS (the child's
ru_maxrss) against the raw JSON bytes the build reads, with the peaks of its two parts: memory
the build allocated, and pages mapped from files (mostly polars' own code). --write-results
records the figures in bench/RESULTS.md under "## build".
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import zstandard

from pelodump.archive import open_archive
from pelodump.cli import tune_polars_for_build
from pelodump.sim.member import Member

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NOTES = """
The floor: the issue defines it as decompressing and parsing every blob the build reads
(first figure). `Archive.read_blob` also checks each body's SHA-256, which the build cannot
skip (a damaged blob must never become rows); the second floor includes that check.

How the build runs: the main thread reads and parses the blobs and gathers each batch of
{batch:,} values into flat lists (the Python work: one core at most, the GIL); a worker
thread turns the previous batch into frames with eager polars column operations; each table's
file is written while the batches come, by a polars sink on a thread of its own (no part
files). The cycle collector is paused meanwhile, and `pelodump build` (and this benchmark's
build child) asks polars' allocator for one arena per CPU and no per-thread caches.

Where the time goes: the build is bound by the GIL. py-spy --gil --nonblocking (250 Hz) finds
a thread holding it ~2.9 s of a ~3.7 s build: the main thread ~1.7 s (orjson ~0.9 s of it),
the frames worker ~1.2 s (making the batch's Python numbers and GPS points polars columns
~0.5 s, freeing them ~0.15 s, the rest the Python side of ~40 polars calls a batch), the sinks
next to nothing. The parquet encoding (~1.6 s of CPU, most of it dictionary encoding, not
zstd) and the polars column work run beside them on the second core. Per
/proc/<tid>/schedstat the main thread is on a CPU ~1.9 s, runnable but waiting for one ~0.6 s,
and asleep ~1.2 s (the GIL, and the worker when it falls behind). CPU per thread
(/proc/self/task): main ~2.1 s, frames worker ~1.8 s (of which ~1.07 s holding the GIL: the
batch's numbers 0.26 s, GPS points 0.19 s, freeing the numbers 0.13 s, the rest spread over
~90 polars calls a batch), polars' streaming executor (the sinks' encoding) ~1.8 s. The main
thread waits for the worker 0.3-0.4 s in all: the GIL, not the pipeline, sets the pace.
Peak RSS: ~51 MiB after imports, ~10 MiB the archive's index and the list of workouts, ~10 MiB
the sinks' threads before any data; the rest the batches being read, framed and encoded. A
larger batch trades memory for time: 300,000 values took ~7% less time for ~30 MiB more.
The machine is shared with other sessions: runs vary by +-15% (CPU time too), hence the
per-run ratios, and small changes need many alternating runs to be told apart from noise.

Kept after alternating runs: reading a blob with os.open/fstat/read/close (fewer system calls,
each a chance for another thread to take the GIL): the main thread's own work 1.75 -> 1.69 s.
Tried and not kept (each measured in alternating runs): making the numbers and GPS points
polars columns every 32,768 values as they are parsed (in the cache) instead of once a batch -
5% faster in one quiet spell, no different in 18 later pairs; cutting the `values` and time
arrays out of each graph's bytes for polars to parse (orjson parsing the rest): orjson and its
floats are faster than polars' JSON readers (read_ndjson, str.json_decode: 50-90 ns a number
against ~35 ns for orjson plus the conversion), the cutting cost the main thread more than
orjson saved, and the build took 4.0-4.2 s; extracting the GPS fields at parse time (no gain);
reading blobs ahead on a thread (file, zstd and SHA-256 release the GIL) - 0.3 s slower, the
reader competes for the GIL too; each batch as one lazy query collected with pl.collect_all -
the query building moved to the main thread and the literal columns made the queries slower:
4.0 s; each workout's arrays made polars columns as it is read - 0.2-0.3 s slower (a polars
call per workout); jemalloc decay settings (dirty_decay_ms:0 cut ~35 MiB at 1.3x the CPU
time; 300-1000 ms: no change); POLARS_MAX_THREADS=1, other GIL switch intervals (0.2-20 ms),
a lower priority for the other threads, or for polars' own (no gain: a thread holding the GIL
then waits for a core); parquet without statistics, zstd level 1, or lz4 (0.1-0.35 s less CPU,
but lz4 doubles the files, and the other gains were within the noise); smaller row groups or
batches (100,000 values: 6 MiB less for 0.25 s more); two batches in flight instead of one, so
that the parser never waits for the worker (no faster in 6 alternating pairs, 6 MiB more).
Where the sinks' memory goes: with every frame dropped instead of written the peak is ~124 MiB
(csv sinks: 142, ndjson: 196, parquet: 157). It is not row groups waiting to be encoded: row
groups of 30,000-100,000 rows, POLARS_INFLIGHT_SINK_MORSEL_LIMIT=1 or 2 and
POLARS_IDEAL_SINK_MORSEL_SIZE_ROWS=30000 leave the peak where it was; jemalloc purging freed
pages at once (background thread, dirty_decay_ms:0) takes 16 MiB off for 1.4x the CPU time.

Run to run, on this shared machine: the same code measured 3.63 s (3.05x) on a quiet morning
and 3.74-3.96 s (3.11-3.23x) in busier hours, its CPU time moving with it (5.30-5.81 s); hence
alternating runs of old and new code for every comparison (6 pairs of this session's start and
end: 3.66-3.89 s against 3.72-3.95 s, the same).

Earlier rounds (same machine, same archive): commit 7c3ee54 built in 4.85 s, 3.45x the floor
with SHA-256, CPU 6.77 s, peak RSS 210 MiB; streaming the tables into their files (instead of
part files read back), smaller batches freed early and the paused cycle collector reached
3.64 s and 184 MiB; the allocator settings and eager column operations 157 MiB.

Scaling (`python bench/build.py --workouts 10000 --repeat 2`): 10,000 workouts, 632 MiB of raw
JSON, 39.9 M metrics_long rows: build 13.19 s = 3.24x the floor (3.15x with SHA-256), peak
RSS 201 MiB = 0.32x the raw JSON. What grows with the history is the per-workout state (the
archive's index, the list of workouts, the workouts rows); the batches do not grow.
"""
KINDS = ("workouts_page", "workout", "performance_graph", "ride_details")


# --- making the archive -------------------------------------------------------------------------


def make_archive(root: Path, workouts: int) -> None:
    """A simulated member's whole history, written through the archive's writer as a crawl
    would: every workouts page, workout, per-second performance graph and class."""
    member = Member(seed=6, workouts=workouts)
    with open_archive(root, create=True).begin_run({"command": "bench"}) as run:

        def save(kind: str, key: str, body: dict[str, Any]) -> None:
            run.save_capture(
                kind=kind, key=key, method="GET", path=f"/api/{kind}/{key}", query="",
                status=200, elapsed_ms=1.0, body=orjson.dumps(body),
                content_type="application/json",
            )  # fmt: skip

        for page in range(math.ceil(workouts / 100)):
            save("workouts_page", str(page), member.workouts_page(page, 100))
        ride_ids = set()
        for workout_id in member.workout_ids():
            workout = member.workout(workout_id)
            assert workout is not None
            save("workout", workout_id, workout)
            save("performance_graph", workout_id, member.performance_graph(workout_id, 1))
            ride_ids.add((workout.get("ride") or {}).get("id"))
        for ride_id in sorted(r for r in ride_ids if r):
            if (details := member.ride_details(ride_id)) is not None:
                save("ride_details", ride_id, details)


# --- measuring, each in a child process -----------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_floor(archive_dir: str) -> dict[str, Any]:
    """Two floors: the issue's (read, decompress and parse each blob), and the same with the
    SHA-256 check `Archive.read_blob` makes (work the build cannot skip)."""
    archive = open_archive(archive_dir)
    captures = [c for kind in KINDS for c in archive.latest_of_kind(kind).values()]
    decompressor = zstandard.ZstdDecompressor()
    start, cpu = time.perf_counter(), cpu_seconds()
    for capture in captures:
        orjson.loads(decompressor.decompress(archive.blob_path(capture.blob).read_bytes()))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    start, hashed_cpu = time.perf_counter(), cpu_seconds()
    for capture in captures:
        orjson.loads(archive.read_blob(capture.blob))
    hashed, hashed_cpu = time.perf_counter() - start, cpu_seconds() - hashed_cpu
    raw = sum(c.size or 0 for c in captures)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "hashed_seconds": hashed,
        "hashed_cpu": hashed_cpu,
        "blobs": len(captures),
        "raw_bytes": raw,
    }


def resident_mib() -> dict[str, float]:
    """This process's resident memory now, in MiB, by kind: `anon` is memory it allocated
    (Python's and polars' heaps, stacks), `file` the pages of files it maps (the code of
    polars, Python and the other libraries: shared with the page cache, and reclaimable)."""
    kinds = {"RssAnon:": "anon", "RssFile:": "file"}
    with open("/proc/self/status") as status:
        found = (line.split() for line in status)
        return {kinds[f[0]]: int(f[1]) / 1024 for f in found if f and f[0] in kinds}


class PeakResident:
    """The peak of resident_mib() while a block runs, sampled every 5 ms on a thread (the
    kernel keeps only the peak of the sum: VmHWM, ru_maxrss)."""

    def __enter__(self) -> PeakResident:
        self.peak = resident_mib()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            for kind, mib in resident_mib().items():
                self.peak[kind] = max(self.peak[kind], mib)

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def child_build(archive_dir: str, out_dir: str) -> dict[str, Any]:
    tune_polars_for_build()  # as `pelodump build` does, before polars is imported
    from pelodump import tables

    start, cpu = time.perf_counter(), cpu_seconds()
    with PeakResident() as resident:
        report = tables.build_tables(open_archive(archive_dir), Path(out_dir))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": report.rows,
        "skipped": len(report.skipped),
        "peak": resident.peak,
    }


def child_imports() -> dict[str, Any]:
    import polars  # noqa: F401

    from pelodump import tables  # noqa: F401

    return {"seconds": 0.0, "resident": resident_mib()}


def run_child(*args: str) -> tuple[dict[str, Any], float]:
    """Run this script as a child; its result and its peak RSS in MiB."""
    process = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"child {args} failed with {process.returncode}")
    return orjson.loads(output), usage.ru_maxrss / 1024  # Linux: KiB


# --- reporting ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as info:
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    if names:
        cpu = names[0]
    with open("/proc/meminfo") as info:
        total_kib = int(info.readline().split()[1])
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {total_kib / 1024**2:.0f} GiB RAM, "
        f"Python {platform.python_version()}, polars {__import__('polars').__version__}"
    )


def write_results(text: str) -> None:
    """Replace (or add) the '## build' section of bench/RESULTS.md, leaving the others alone."""
    existing = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    lines = existing.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "## build"), None)
    if start is None:
        updated = existing.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        updated = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    RESULTS.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workouts", type=int, default=3000)
    parser.add_argument("--archive", type=Path, help="make the archive here, or reuse it")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, *rest = args.child
        result = {"floor": child_floor, "build": child_build, "imports": child_imports}[what](*rest)
        sys.stdout.buffer.write(orjson.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        archive_dir = args.archive or Path(tmp) / "archive"
        if not (archive_dir / "pelodump-archive.json").exists():
            print(f"making a {args.workouts}-workout archive in {archive_dir} ...", flush=True)
            start = time.perf_counter()
            make_archive(archive_dir, args.workouts)
            print(f"  made in {time.perf_counter() - start:.0f} s", flush=True)
        floors, builds, rss = [], [], []
        for _ in range(args.repeat):  # alternated, so both see the same machine
            floor, _ = run_child("floor", str(archive_dir))
            floors.append(floor)
            out = Path(tmp) / "tables"
            build, peak = run_child("build", str(archive_dir), str(out))
            builds.append(build)
            rss.append(peak)
            assert build["skipped"] == 0, "the simulated archive must build without problems"
        imports, import_rss = run_child("imports")
        floor_s = statistics.median(f["seconds"] for f in floors)
        build_s = statistics.median(b["seconds"] for b in builds)
        floor_cpu = statistics.median(f["cpu"] for f in floors)
        hashed_s = statistics.median(f["hashed_seconds"] for f in floors)
        hashed_cpu = statistics.median(f["hashed_cpu"] for f in floors)
        build_cpu = statistics.median(b["cpu"] for b in builds)
        anon = statistics.median(b["peak"]["anon"] for b in builds)
        file = statistics.median(b["peak"]["file"] for b in builds)
        raw_mib = floor["raw_bytes"] / 1024**2
        rows = build["rows"]
        table_bytes = sum(p.stat().st_size for p in (Path(tmp) / "tables").iterdir())

    def ratios(key: str) -> str:
        each = [b["seconds"] / f[key] for f, b in zip(floors, builds, strict=True)]
        return ", ".join(f"{ratio:.2f}x" for ratio in each)

    builds_s = sorted(b["seconds"] for b in builds)
    figures = [
        f"workouts built: {rows['workouts']:,} ({floor['blobs']:,} blobs read, "
        f"{raw_mib:,.0f} MiB of raw JSON)",
        "rows: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()),
        f"floor (read + decompress + orjson-parse every blob): {floor_s:.2f} s; "
        f"with read_blob's SHA-256 check: {hashed_s:.2f} s",
        f"build (open archive .. last file renamed): {build_s:.2f} s "
        f"(runs {builds_s[0]:.2f}-{builds_s[-1]:.2f} s)",
        f"build / floor: {build_s / floor_s:.2f}x (each run: {ratios('seconds')}); "
        f"/ floor with SHA-256: {build_s / hashed_s:.2f}x (each run: {ratios('hashed_seconds')})",
        f"CPU time (all threads): floor {floor_cpu:.2f} s (with SHA-256 {hashed_cpu:.2f} s), "
        f"build {build_cpu:.2f} s = {build_cpu / floor_cpu:.2f}x",
        f"peak RSS of the build: {statistics.median(rss):,.0f} MiB median, {max(rss):,.0f} "
        f"max (of which ~{import_rss:,.0f} MiB is Python + polars after import) "
        f"= {max(rss) / raw_mib:.2f}x the raw JSON",
        f"of it, by kind (peaks sampled every 5 ms): memory the build allocated {anon:,.0f} MiB "
        f"median = {anon / raw_mib:.2f}x the raw JSON (~{imports['resident']['anon']:,.0f} MiB "
        f"of it after import); pages mapped from files (the code of polars and Python, shared "
        f"and reclaimable) {file:,.0f} MiB, which varies with what the page cache holds",
        f"tables on disk (parquet): {table_bytes / 1024**2:,.0f} MiB",
    ]
    print("\n".join(figures))
    if args.write_results:
        from pelodump.tables import BATCH_VALUES  # here: the children import polars themselves

        command = "python bench/build.py" + (
            f" --workouts {args.workouts}" if args.workouts != 3000 else ""
        )
        write_results(
            "## build\n\n"
            f"Machine: {machine()}.\n"
            f"Command: `{command}` (median of {args.repeat} runs, each in a fresh process; "
            "the archive is a simulated member's history from pelodump.sim.member).\n\n"
            + "".join(f"- {line}\n" for line in figures)
            + NOTES.format(batch=BATCH_VALUES)
        )


if __name__ == "__main__":
    main()
