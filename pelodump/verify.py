"""`pelodump verify`: prove the archive is whole, or name exactly what is wrong.

Problems (exit 1): unreadable records, records naming a blob that is missing, and with --read-data
blobs that do not decompress, do not hash to their name, or are not the JSON (or text) they claim.
Notes (exit 0): blobs no record names and leftover temp files, which a killed writer may leave and
which lose nothing; runs without an end record, which were killed.
"""

from __future__ import annotations

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
    content_types = _check_records(archive, report)
    _check_blobs(archive, content_types, report, read_data=read_data)
    leftovers = sorted(archive.tmp_dir.iterdir()) if archive.tmp_dir.exists() else []
    for leftover in leftovers:
        report.notes.append(f"tmp/{leftover.name}: leftover temp file (the next fetch removes it)")
    return report


def _check_records(archive: Archive, report: VerifyReport) -> dict[str, str | None]:
    """Check every record; return each named blob's declared content type."""
    content_types: dict[str, str | None] = {}
    ended: set[str] = set()
    started: dict[str, str] = {}
    for log, item in archive.iter_records():
        if isinstance(item, LogProblem):
            report.problems.append(f"{item.where}: {item.reason}")
            continue
        report.records += 1
        if item["type"] == "run_start":
            started[item["run"]] = log.name
        elif item["type"] == "run_end":
            ended.add(item["run"])
        elif item["type"] == "capture" and item.get("blob"):
            blob = item["blob"]
            if blob not in content_types:
                content_types[blob] = item.get("content_type")
                try:
                    path = archive.blob_path(blob)
                except ValueError:
                    report.problems.append(f"runs/{log.name} seq {item.get('seq')}: bad blob id")
                    continue
                if not path.is_file():
                    report.problems.append(
                        f"runs/{log.name} seq {item.get('seq')}: names missing blob {blob}"
                    )
    for run, name in started.items():
        if run not in ended:
            report.notes.append(f"runs/{name}: run has no end record (killed, or still running)")
    return content_types


def _check_blobs(
    archive: Archive, content_types: dict[str, str | None], report: VerifyReport, *, read_data: bool
) -> None:
    for path in sorted(archive.objects_dir.glob("*/*")):
        name = f"objects/{path.parent.name}/{path.name}"
        blob_id = f"sha256:{path.parent.name}{path.name}"
        report.blobs += 1
        if blob_id not in content_types:
            report.notes.append(f"{name}: no record names this blob (harmless)")
        if not read_data:
            continue
        try:  # the build's own reader: one rule for what a damaged blob is
            body = archive.read_blob(blob_id)
        except (OSError, ValueError) as error:  # CorruptBlob, or a file that is no blob id
            report.problems.append(f"{name}: {error}")
            continue
        report.bytes_read += len(body)
        if blob_id not in content_types:
            continue  # a body whose record never came (killed, disk full): JSON or text, unknown
        try:
            check_body(body, content_types[blob_id])
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
