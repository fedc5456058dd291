"""`pelodump verify`: prove the archive is whole, or name exactly what is wrong.

Problems (exit 1): unreadable records, records out of their log's order or of another run, logs
without a start, records naming a blob that is missing, empty blob files, blobs but no records
at all; with --read-data blobs that do not decompress, do not hash to their name, are not the
size their record says, or are not the JSON (or text) they claim.
Notes (exit 0): blobs no record names and leftover temp files, which a killed writer may leave and
which lose nothing; files in objects/ that are not blobs; runs without an end record, which were
killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pelodump.archive import Archive, InvalidBody, LogProblem, check_body, open_archive
from pelodump.errors import EXIT_OK, EXIT_PROBLEMS


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    records: int = 0
    blobs: int = 0
    bytes_read: int = 0

    @property
    def clean(self) -> bool:
        return not self.problems


def verify_archive(archive: Archive, *, read_data: bool = False) -> VerifyReport:
    report = VerifyReport()
    named = _check_records(archive, report)
    _check_blobs(archive, named, report, read_data=read_data)
    if report.blobs and not report.records:  # every fetch writes its run_start first
        report.problems.append(
            f"runs/: no records, yet {report.blobs} blobs: the run logs are gone"
        )
    try:
        leftovers = sorted(archive.tmp_dir.iterdir()) if archive.tmp_dir.exists() else []
    except OSError as error:
        report.problems.append(f"tmp/: cannot be read ({error.strerror or error})")
        leftovers = []
    for leftover in leftovers:
        report.notes.append(f"tmp/{leftover.name}: leftover temp file (the next fetch removes it)")
    return report


@dataclass(frozen=True)
class _Named:
    """What the first record naming a blob says of it."""

    content_type: str | None
    size: int | None


def _check_records(archive: Archive, report: VerifyReport) -> dict[str, _Named]:
    """Check every record; return what records say of each blob they name."""
    named: dict[str, _Named] = {}
    ended: set[str] = set()
    started: dict[str, str] = {}
    headed: set[str] = set()  # logs whose run_start has been read
    last_seq: dict[str, int] = {}  # per log
    for log, item in archive.iter_records():
        if isinstance(item, LogProblem):
            report.problems.append(f"{item.where}: {item.reason}")
            continue
        report.records += 1
        place = f"runs/{log.name}"
        if item["type"] in _RUN_RECORDS and item["run"] != log.stem:  # copied in from another
            report.problems.append(f"{place}: a record of run {item['run']!r}")
        if item["type"] == "run_start":
            started[item["run"]] = log.name
            headed.add(log.name)
        elif item["type"] == "run_end":
            ended.add(item["run"])
        if item["type"] != "capture":
            continue
        seq = item["seq"]
        where = f"{place} seq {seq}"
        if log.name not in headed:
            report.problems.append(f"{where}: a capture before the log's run_start record")
        # Replayed in order, the last capture of a resource is its latest: order is meaning.
        if seq <= last_seq.get(log.name, 0):
            report.problems.append(
                f"{where}: after seq {last_seq[log.name]} (repeated or out of order)"
            )
        last_seq[log.name] = max(seq, last_seq.get(log.name, 0))
        status, blob = item.get("status"), item.get("blob")
        if isinstance(status, int) and 200 <= status < 300 and not blob and not item.get("error"):
            report.problems.append(f"{where}: answered {status} with neither a body nor an error")
        if not blob:
            continue
        if blob not in named:
            named[blob] = _Named(item.get("content_type"), item.get("size"))
            try:
                path = archive.blob_path(blob)
            except ValueError:
                report.problems.append(f"{where}: bad blob id")
                continue
            if not path.is_file():
                report.problems.append(f"{where}: names missing blob {blob}")
    for run, name in started.items():
        if run not in ended:
            report.notes.append(f"runs/{name}: run has no end record (killed, or still running)")
    return named


# The record types that name their run (a type pelodump does not know is skipped, whatever it has).
_RUN_RECORDS = frozenset({"run_start", "run_end", "capture"})
_HEX = frozenset("0123456789abcdef")


def _blob_files(archive: Archive, report: VerifyReport) -> Iterator[tuple[str, Path]]:
    """Each file of objects/ named as pelodump names blobs (objects/ab/<62 hex>), with its blob
    id; what cannot be read is a problem, what pelodump never writes is a note."""

    def listed(directory: Path) -> list[Path]:
        try:
            return sorted(directory.iterdir())
        except OSError as error:
            where = directory.relative_to(archive.root)
            report.problems.append(f"{where}/: cannot be read ({error.strerror or error})")
            return []

    for parent in listed(archive.objects_dir):
        if not (parent.is_dir() and len(parent.name) == 2 and set(parent.name) <= _HEX):
            report.notes.append(f"objects/{parent.name}: not a blob directory (pelodump made none)")
            continue
        for path in listed(parent):
            name = f"objects/{parent.name}/{path.name}"
            if not (len(path.name) == 62 and set(path.name) <= _HEX) or not path.is_file():
                report.notes.append(f"{name}: not a blob (pelodump writes no such file)")
                continue
            yield f"sha256:{parent.name}{path.name}", path


def _check_blobs(
    archive: Archive, named: dict[str, _Named], report: VerifyReport, *, read_data: bool
) -> None:
    for blob_id, path in _blob_files(archive, report):
        name = f"objects/{path.parent.name}/{path.name}"
        report.blobs += 1
        if blob_id not in named:
            report.notes.append(f"{name}: no record names this blob (harmless)")
        try:
            empty = path.stat().st_size == 0
        except OSError as error:
            report.problems.append(f"{name}: cannot be read ({error.strerror or error})")
            continue
        if empty:  # no zstd frame is: cheap to see without reading any data
            report.problems.append(f"{name}: damaged on disk: the file is empty")
            continue
        if not read_data:
            continue
        try:  # the build's own reader: one rule for what a damaged blob is
            body = archive.read_blob(blob_id)
        except (OSError, ValueError) as error:  # CorruptBlob, or a file that is no blob id
            report.problems.append(f"{name}: {error}")
            continue
        report.bytes_read += len(body)
        if blob_id not in named:
            continue  # a body whose record never came (killed, disk full): JSON or text, unknown
        if named[blob_id].size is not None and named[blob_id].size != len(body):
            report.problems.append(
                f"{name}: {len(body)} bytes where its record says {named[blob_id].size}"
            )
        try:
            check_body(body, named[blob_id].content_type)
        except InvalidBody as error:
            report.problems.append(f"{name}: {error}")


def run_verify_command(root: Path, *, read_data: bool) -> int:
    archive = open_archive(root)
    with archive.reading_lock():
        report = verify_archive(archive, read_data=read_data)
    for problem in report.problems:
        print(f"problem: {problem}")
    for note in report.notes:
        print(f"note: {note}")
    checked = "read and re-hashed" if read_data else "present"
    print(
        f"verify: {report.records} records, {report.blobs} blobs {checked}: "
        f"{len(report.problems)} problem(s), {len(report.notes)} note(s)"
    )
    if any(problem.startswith("objects/") for problem in report.problems):
        print(
            "to repair damaged blobs, capture their bodies again: pelodump fetch --full "
            f"--archive {root} (and the --every-n of the first fetch, if you gave one)"
        )
    return EXIT_OK if report.clean else EXIT_PROBLEMS
