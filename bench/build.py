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

from pelodump.archive import _read_file, open_archive
from pelodump.cli import tune_polars_for_build
from pelodump.sim.member import Member

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NOTES = """
The floor: the issue defines it as decompressing and parsing every blob the build reads
(first figure). `Archive.read_blob` also checks each body's SHA-256, which the build cannot
skip (a damaged blob must never become rows); the second floor includes that check.
The floors and the build run with every blob file read once just before, untimed: they time the
work, not the disk. Until 2026-12-01 the first floor read each file with Path.read_bytes, twice
as slow as read_blob's reading: the ratios to it quoted for 2026-11 below are ~10% too kind.

How the build runs: the main thread reads and parses the blobs, gathers each batch of
{batch:,} values into flat lists and turns them into polars columns (GraphBatch.seal: all the
work that holds the GIL); a worker thread turns the previous batch's columns into frames with
one pl.collect_all on polars' in-memory engine (no GIL until it is done); each table's file is
written while the batches come, by a polars sink on a thread of its own (no part files). The
cycle collector is paused meanwhile, and `pelodump build` (and this benchmark's build child)
gives polars one thread fewer than the CPUs and one allocator arena per CPU without thread
caches.

Where the time goes (in the round of 2026-11, when this machine built in ~3.5 s and the floor
took ~1 s; per-thread CPU from /proc/self/task, each step timed on the main thread): the main
thread is the critical path, busy ~3.3 s of a ~3.5 s build: reading, decompressing and hashing
~0.55 s, orjson ~1.0 s, making the polars columns ~0.95 s (about 17 ns a number: a JSON array of
ints and floats takes polars' slower path), the batch lists ~0.4 s, the workouts rows ~0.2 s.
The other CPU encodes the files (~1.8 s) and makes the frames (~0.45 s), with time to spare.
With every frame dropped instead of written the build takes ~2.9 s: the main thread alone is
~2.8x the floor, and the encoding beside it slows it by ~0.5 s (8 runs in alternating order). In
the build, orjson takes 1.5x its time in the floor, and every step ~1.5-2x its time alone: the
two CPUs share the caches and the memory.

The round of 2026-11 (each change measured in alternating order, ABBA: run twice in a row, the
same build was often faster the second time, by up to 0.5 s): the frames worker used to make the
Series from the batch's Python lists and then ~45 eager polars calls per batch; each call gave
up the GIL and waited to get it back from the parsing thread (3.5 s of wall time in the worker
for 0.75 s of its CPU). Making the columns on the parsing thread and the frames in one
collect_all, and polars' pool at one thread fewer than the CPUs (median 3.62 s against 3.92 s on
its own, 0.4 s less CPU), took the build from a median of 4.10 s to 3.75 s (8 pairs against the
round's first commit). Tried and not kept: reading blobs ahead on a thread again (slower in 4 of
4 pairs), never purging jemalloc's freed pages (no faster in 6 pairs, 16,000 fewer page faults),
GIL switch intervals of 0.5-1 ms, parquet without statistics, with lz4 or snappy, or row groups
of 65,536 rows (all within the noise). A larger batch still trades memory for time: 300,000
values took 10-20% less time for 30-40 MiB more.

What stands between the build and 3x the floor (2026-12-01, the machine running ~1.9x
slower than in 2026-11, so in shares of the floor): the build's CPU time, 5.3-5.8x
the floor's, allows no less than 2.6-2.9x the floor on two CPUs however it is shared out, and
the threads that need the GIL hold it for ~3.2x the floor's time between them (the main
thread ~3x; the frames worker ~0.2x, a third of it in the Series.scatter that fills the
samples grid). Each blob read gives the GIL up four times (open, fstat, read, close) and 1%
of reads wait 1-5 ms to get it back. No other parser turns numbers into something polars
takes faster than orjson does (arrays of 1,800 numbers, one process): polars'
str.json_decode 126 ns a number, split and cast 62 ns, orjson 56 ns. pysimdjson's as_buffer
would skip the Python numbers, at the price of two dependencies (it and numpy) and a floor
that is no longer orjson's.

The round of 2026-12-02 (the same code measured 2.8x one hour and 3.5x the day before: the
floor alone, one thread, took 1.3-2.5 s in consecutive fresh processes). Each step timed on
the main thread of one build, wall / its CPU: reading blobs 1.22 / 0.85 s, orjson 1.57 / 1.56
(1.0-1.3 in the floor), GraphBatch.add 0.66, the workouts rows 0.33, GraphBatch.seal 1.5 (of
which the Series of numbers 0.78, 40 ns a number: the same lists converted just after parsing
take 22-30), the rest ~0.9. Sampling only the thread that holds the GIL (py-spy --gil), the
frames worker held it for 0.1 s of the build and the sinks' threads for almost nothing: the
main thread's 0.4 s off its CPU inside blob reads is the cost of handing the GIL back and forth
(each batch makes the worker and six sinks take it a few times), not time others spend in
Python. The batch size shows it: at 75,000 / 150,000 / 300,000 / 600,000 values the build took
7.7-8.9 / 6.4-7.6 / 6.2-7.2 / 5.5-5.7 s with 91 / 107 / 135 / 174 MiB allocated at the peak:
~6 ms of the main thread per batch, and ~160 bytes of peak per value in a batch, mostly
polars' (the frames being made and the sinks'), not Python's. Measured and not kept: two
processes each building half the workouts at once took 6.2-6.8 s for both, against 7.2-7.4 s
for one building all (one build already keeps ~1.55 CPUs busy); packing the numbers with
struct.pack (23-29 ns a number, as polars), array.array (52 ns) or orjson.dumps for polars' CSV
reader (as slow on the main thread, and 0.7 s more on the worker); polars' read_json of the
graphs with a schema, which makes no Python numbers (1.55 s for the graphs against orjson's
0.8 s); filling the samples grid lazily, by a left join (+3.5 s of CPU) or by is_in and a
cumulative count (+5 s), instead of Series.scatter; parquet with lz4 (0.4-0.6 s less CPU, no
faster in 6 pairs, tables 59 MiB instead of 27); the sinks' threads at nice 5 (no faster in 6
pairs); a sink taking each frame straight from the worker instead of through a queue (no less
memory); jemalloc returning freed pages within 200 ms (150,000 values: 96 MiB instead of 107,
as fast; within 0 ms: 86 MiB, 1.3x slower). Left: 600,000-value batches with the 200 ms decay
measured 6.3-7.2 s at 148-150 MiB allocated (~200 MiB resident, more than the raw JSON);
GPS points re-serialised by orjson.dumps for read_json on the worker (0.28 s of the main
thread instead of ~0.55 s, for 0.55 s more on the worker; not tried in a build).

Later on 2026-12-02, measured and not kept: cutting each metric's `values` array out of a
graph's bytes before orjson parses the rest (a byte scan for `"values":` that takes only flat
arrays of numbers: sound, as the archive holds only bodies that parse), and reading the cut
text on the frames worker with polars' CSV reader, the comma as its end of line. It took
~0.8 s of CPU off the main thread (GraphBatch.seal 1.6 s -> 1.0 s: no Python list or Series of
the values) and put ~0.9 s on polars' (its CSV reader takes ~60 ns a number, as orjson and the
Series did between them); the build was no faster (medians of 6 alternating runs: 7.10 s
against 7.00 s; this script's ratio over five alternating rounds: 3.09-3.98x against
3.13-3.88x): the frames worker then kept the main thread waiting instead. The graphs'
number arrays are not what makes orjson slow: the graphs without them (82 of 140 MiB) parsed
in 0.86-1.05 s against 0.97-1.4 s whole. Their GPS points are (69 MiB of the graphs' JSON, in
284 outdoor workouts, an object of six keys a point); polars' ndjson reader took 1.2 s of CPU
for them against orjson's 0.8 s, and fails instead of giving null where an integer is a
fraction. Also no faster: parquet's zstd at level 1 instead of 3 (0.4-0.6 s less encoding CPU
when written alone, tables 29 MiB instead of 27; median 7.17 s against 7.00 s in a build), and
polars' pool at two threads with the cut (3 pairs). Nor would numpy make the columns
faster: np.array of 3.6 million parsed numbers took 45-61 ns a number against
pl.Series' 26-43 (three rounds in one process), for one more dependency.

The last round of 2026-12-02 (the machine now an Intel Xeon, floor ~0.7 s; each step timed on the
main thread of one build; alternating runs in fresh processes). polars 2.1's collect_all chose
the streaming engine for each batch's frames, whose executor the sinks keep busy encoding: the
frames waited behind the files, and the main thread waited ~0.5 s for them in all. On the
in-memory engine the build took a median of 2.18 s against 2.44 s (8 runs each). The memory
sampler used to be a thread in the build's child, taking the GIL 200 times a second; sampled
from the parent instead, the same build measured 2.14 s against 2.27 s. Where it stands: the
main thread is the critical path, ~1.55 s of CPU and ~1.9 s of wall of a ~2.1 s build; with
the frames dropped instead of written, its wall equals its CPU (1.61 s), and handing the frames
to plain Python threads that drop them costs nothing more: what slows it by ~0.3 s is polars'
sinks running beside it (with uncompressed IPC files as much as with parquet), not the GIL,
which the other threads held for ~0.05 s in all (py-spy --gil). Measured and not kept: making
the numbers' Series from two lists, the ints apart from the floats (polars takes a list of one
type 3-4x faster: GraphBatch.seal 1.05 s -> 0.75 s on the main thread alone, but the build no
faster: medians 2.18 s against 2.20 s); parquet's zstd at level 1, lz4, or no statistics (the
encoders' CPU 1.14 s -> 1.09 / 0.93 / 1.01 s, the build within the noise); the sinks' queues 4
deep instead of 1; polars' pool at two threads (0.15-0.2 s slower); the threads beside the main
one at nice 10, or only polars' executor threads (no faster: the frames then kept the main thread
waiting).

The evening round of 2026-12-02 (the machine an AMD EPYC again; the same code measured 3.4-4.0x,
medians of 5-8 alternating fresh runs over three hours, the floor 0.68-0.79 s). CPU by thread in
one process: the main thread 1.7-2.0 s, the sinks' encoders 1.1-1.25, polars' pool 0.15-0.2,
threads that end with the build (the frames worker, the sinks' Python) 0.2-0.5. Encoding each
table alone on one thread: metrics_long 0.6-0.8 s, of which its `value` column 0.28 (polars
writes Float64 plain, 88 MiB that zstd makes 11; integers it encodes by dictionary, floats not)
and the min/max statistics ~0.15 (kept: they let a notebook's scan_parquet skip the row groups
of the workouts it does not ask for); samples 0.44; zstd level 1 saves ~0.05 s a table.
Measured and not kept: the samples grid made by gathers inside the batch's collect_all instead
of Series.scatter, which holds the GIL (0.07 s of the frames worker): the same tables, but work
per sample and column instead of per value, +0.45 s of CPU and a slower build (medians 3.05 s
against 2.83 s, 8 alternating runs). The batch size, 75,000 / 150,000 / 300,000 values: 2.84 /
2.49 / 2.22 s (5 alternating runs); the threads that end with the build spent 0.48 / 0.30 / 0.20
s (the frames worker builds each batch's plans in ~1.7 ms of Python); sealing costs ~0.3 ms a
batch beside its values. At 300,000 the peak RSS is 186 MiB, 1.01x the raw JSON (150,000: 158
MiB, 0.84x), for 3.45x the floor against 3.66x (3 runs each). Where this leaves the target: the
build's CPU is 5.4-5.6x the floor's here, so two CPUs shared perfectly would still take 2.7-2.8x,
and the main thread alone, whose Python holds the GIL throughout, needs ~2.6x.

Memory: the peak RSS counts two kinds of pages. Those the build allocated (Python's heap,
polars' frames and sinks, ~31 MiB of it after import) are the build's own; those mapped from
files are the code of polars and Python, shared with the page cache and reclaimable, and how
many of them a process counts depends on what the page cache held before it started (the
kernel maps cached neighbours of a faulting page): 44-77 MiB in this round's runs of the
same build. With every frame dropped the allocated peak is ~85 MiB instead of ~110 MiB: the
six sinks hold ~25 MiB. The batch size hardly moves it (50,000 values: -5 MiB).

Scaling (`python bench/build.py --workouts 10000 --repeat 2`): 10,000 workouts, 632 MiB of raw
JSON, 39.9 M metrics_long rows: build 13.2 s = 3.49x the floor, peak RSS 206 MiB = 0.33x the
raw JSON (allocated: 158 MiB = 0.25x). What grows with the history is the per-workout state
(the archive's index, the list of workouts, the workouts rows); the batches do not grow.

Earlier rounds (same machine, same archive): commit 7c3ee54 built in 4.85 s, 3.45x the floor
with SHA-256, CPU 6.77 s, peak RSS 210 MiB; streaming the tables into their files (instead of
part files read back), smaller batches freed early and the paused cycle collector reached
3.64 s and 184 MiB; the allocator settings and eager column operations 157 MiB. Tried then
and not kept: cutting the number arrays out of each graph's bytes for polars' JSON readers
(slower than orjson), one lazy query per batch built on the main thread, two batches in
flight, GIL switch intervals of 0.2-20 ms, jemalloc decay settings. The machine is shared
with other sessions: the same code measured 3.05x on a quiet morning and 3.88x at the start
of this round, hence the per-run ratios and the alternating runs.
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


def warm_page_cache(archive_dir: str) -> None:
    """Read every blob file once, untimed: this machine's kernel pages out files left unread for
    a few seconds, and a floor or build that read them from disk would time the disk."""
    archive = open_archive(archive_dir)
    for kind in KINDS:
        for capture in archive.latest_of_kind(kind).values():
            archive.blob_path(capture.blob).read_bytes()


def child_floor(archive_dir: str) -> dict[str, Any]:
    """Two floors: the issue's (read, decompress and parse each blob), and the same with the
    SHA-256 check `Archive.read_blob` makes (work the build cannot skip)."""
    warm_page_cache(archive_dir)
    archive = open_archive(archive_dir)
    captures = [c for kind in KINDS for c in archive.latest_of_kind(kind).values()]
    decompressor = zstandard.ZstdDecompressor()
    start, cpu = time.perf_counter(), cpu_seconds()
    for capture in captures:
        # Read as read_blob reads (one open, fstat, read and close): Path.read_bytes takes
        # twice as long and would pad the floor.
        orjson.loads(decompressor.decompress(_read_file(str(archive.blob_path(capture.blob)))))
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


def resident_mib(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory now, in MiB, by kind: `anon` is memory it allocated
    (Python's and polars' heaps, stacks), `file` the pages of files it maps (the code of
    polars, Python and the other libraries: shared with the page cache, and reclaimable)."""
    kinds = {"RssAnon:": "anon", "RssFile:": "file"}
    with open(f"/proc/{pid}/status") as status:
        found = (line.split() for line in status)
        return {kinds[f[0]]: int(f[1]) / 1024 for f in found if f and f[0] in kinds}


class PeakResident:
    """The peaks of a child's resident_mib() while it runs, sampled every 5 ms by a thread of
    this process (the kernel keeps only the peak of the sum: VmHWM, ru_maxrss). Sampling from
    here, not in the child: a thread there would take the build's GIL 200 times a second
    (measured: ~0.1 s of a ~2.2 s build)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = {"anon": 0.0, "file": 0.0}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            try:  # a child that has exited but not been waited for has no Rss lines: {}
                now = resident_mib(self.pid)
            except OSError:  # no such process any more
                return
            for kind, mib in now.items():
                self.peak[kind] = max(self.peak[kind], mib)

    def stop(self) -> dict[str, float]:
        self._done.set()
        self._thread.join()
        return self.peak


def child_build(archive_dir: str, out_dir: str) -> dict[str, Any]:
    tune_polars_for_build()  # as `pelodump build` does, before polars is imported
    from pelodump import tables

    warm_page_cache(archive_dir)
    start, cpu = time.perf_counter(), cpu_seconds()
    report = tables.build_tables(open_archive(archive_dir), Path(out_dir))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu": cpu, "rows": report.rows, "skipped": len(report.skipped)}


def child_imports() -> dict[str, Any]:
    import polars  # noqa: F401

    from pelodump import tables  # noqa: F401

    return {"seconds": 0.0, "resident": resident_mib()}


def run_child(*args: str) -> tuple[dict[str, Any], float]:
    """Run this script as a child; its result (with the peaks of its memory by kind, as
    "peak") and its peak RSS in MiB."""
    process = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE)
    resident = PeakResident(process.pid)
    assert process.stdout is not None
    output = process.stdout.read()
    peak = resident.stop()  # before the wait: until then the child's /proc entry is still its own
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"child {args} failed with {process.returncode}")
    return orjson.loads(output) | {"peak": peak}, usage.ru_maxrss / 1024  # Linux: KiB


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
