"""`pelodump status`: what the archive holds, in a few lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pelodump.archive import Archive, RunInfo, open_archive
from pelodump.errors import EXIT_OK
from pelodump.units import utc_time


@dataclass
class ArchiveStatus:
    runs: list[RunInfo]
    captures: Counter[str] = field(default_factory=Counter)  # every record, by kind
    failed: Counter[str] = field(default_factory=Counter)  # records without a stored body
    workouts: int = 0
    graphs: int = 0
    first_workout: datetime | None = None
    last_workout: datetime | None = None
    raw_bytes: int = 0  # bodies received and kept, duplicates included
    disk_bytes: int = 0  # what the blobs take on disk, compressed and stored once
    blobs: int = 0


def archive_status(archive: Archive) -> ArchiveStatus:
    status = ArchiveStatus(runs=sorted(archive.runs.values(), key=lambda run: run.run))
    for _, record in archive.iter_records():
        if isinstance(record, dict) and record.get("type") == "capture":
            status.captures[record["kind"]] += 1
            if record.get("blob"):
                status.raw_bytes += record.get("size") or 0
            else:
                status.failed[record["kind"]] += 1
    workouts = archive.latest_of_kind("workout")
    status.workouts = len(workouts)
    status.graphs = len(archive.latest_of_kind("performance_graph"))
    # The crawler labels each workout capture with its start time, so no blob needs reading here.
    # A label that is no time (as the API sent it) is left out; 0 stands for none.
    starts = [utc_time(c.labels.get("start_time") or None) for c in workouts.values()]
    if known := [start for start in starts if start is not None]:
        status.first_workout, status.last_workout = min(known), max(known)
    for blob in archive.objects_dir.glob("*/*"):
        try:
            size = blob.stat().st_size
        except OSError:  # a dangling link, a file it may not see: verify says what is wrong
            continue
        status.blobs += 1
        status.disk_bytes += size
    return status


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def format_status(archive: Archive, status: ArchiveStatus) -> str:
    lines = [f"archive {archive.root} (id {archive.info.get('archive_id')})"]
    lines.append(f"runs: {len(status.runs)}")
    # A run without an end is one that was killed, or the one a writer is running now: the last.
    writer = archive.writer_pid()
    for run in status.runs[-10:]:
        ended = f", ended {run.ended_at}" if run.ended_at else ""
        outcome = run.outcome_or_guess
        if writer is not None and run is status.runs[-1] and run.outcome is None:
            outcome = "running"
        lines.append(
            f"  {run.run}  {outcome:<11} {run.captures} captures (started {run.started_at}{ended})"
        )
    if len(status.runs) > 10:
        lines.append(f"  … and {len(status.runs) - 10} earlier runs")
    lines.append("captures by kind (failed attempts in brackets):")
    for kind, count in sorted(status.captures.items()):
        lines.append(f"  {kind:<18} {count:>7}  ({status.failed[kind]} failed)")
    lines.append(f"workouts: {status.workouts} with details, {status.graphs} with graphs")
    if status.first_workout and status.last_workout:
        lines.append(
            f"workout dates: {status.first_workout:%Y-%m-%d} to {status.last_workout:%Y-%m-%d}"
        )
    ratio = status.raw_bytes / status.disk_bytes if status.disk_bytes else 0.0
    lines.append(
        f"bytes: {_megabytes(status.raw_bytes)} received in {status.blobs} blobs taking "
        f"{_megabytes(status.disk_bytes)} on disk ({ratio:.1f}x: compression and de-duplication)"
    )
    if archive.log_problems:
        lines.append(
            f"run logs: {len(archive.log_problems)} lines that cannot be read "
            "(pelodump verify lists them)"
        )
    return "\n".join(lines)


def run_status_command(root: Path) -> int:
    archive = open_archive(root)
    print(format_status(archive, archive_status(archive)))
    return EXIT_OK
