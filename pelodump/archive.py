"""The archive: every response body stored once by its SHA-256, and a log of every capture.

It knows nothing of Peloton: a capture is an HTTP exchange with a caller-chosen `kind` and `key`,
and `labels` the caller may attach. The on-disk format is documented in archive/README.md.

    <root>/pelodump-archive.json   format name, version and a random archive id
    <root>/objects/ab/cdef…         zstd-compressed bodies, named by the SHA-256 of the raw bytes
    <root>/runs/<run id>.jsonl      one JSON object per line: run_start, capture…, run_end
    <root>/tmp/                     temp files of writes in flight; the next writer clears it
    <root>/lock                     the OS lock held by the single writer; holds its pid

Invariants:
- A blob file appears only by hard-linking a temp file that is already complete and fsynced, so a
  reader never sees a partial blob and a crash leaves either no blob or a whole one.
- A capture record is appended only after its blob and the blob's directory are fsynced, so a
  record never names a blob that is not safely on disk. Each record is one write() to an O_APPEND
  file, then fdatasync: a SIGKILL never tears a record, and a returned `save_capture` is durable.
- Only the holder of the lock writes. Readers never lock against a writer and never modify anything.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import zstandard

from pelodump import __version__
from pelodump.errors import ArchiveError

_BLOB_ID = re.compile(r"sha256:([0-9a-f]{64})")
FORMAT_NAME = "pelodump-archive"
FORMAT_VERSION = "1.0"
FORMAT_FILE = "pelodump-archive.json"
ZSTD_LEVEL = 3  # measured on the real samples: see archive/README.md
# No Peloton response comes near this (a year of per-second graphs is a few MB). A damaged
# blob's zstd header can claim terabytes: reading trusts no size above it.
MAX_BODY_BYTES = 1 << 30

_local = threading.local()  # zstd (de)compressor objects are not thread-safe: one per thread


def _compressor() -> zstandard.ZstdCompressor:
    if not hasattr(_local, "compressor"):
        _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return _local.compressor


def _read_file(path: str) -> bytes:
    """A whole file, in as few system calls as can be: each one lets another thread take the
    GIL, and a build reads thousands of small files while other threads want it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size)
        while len(data) < size:  # a short read (rare for a regular file)
            more = os.read(fd, size - len(data))
            if not more:
                break
            data += more
        return data
    finally:
        os.close(fd)


def _decompressor() -> zstandard.ZstdDecompressor:
    if not hasattr(_local, "decompressor"):
        _local.decompressor = zstandard.ZstdDecompressor()
    return _local.decompressor


def utc_now() -> str:
    """The current UTC time as ISO 8601 with milliseconds and a Z, as every record writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def blob_id_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class Capture:
    """One HTTP exchange as recorded: failures and non-2xx answers included."""

    run: str
    seq: int
    started_at: str
    method: str
    path: str
    query: str
    status: int | None  # None when no HTTP answer arrived (connection error, timeout)
    elapsed_ms: float
    kind: str
    key: str
    blob: str | None  # "sha256:<hex>" when the body was kept (whole and valid), else None
    size: int | None  # raw body bytes received
    content_type: str | None
    error: str | None  # why the exchange failed, in words; never a secret
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """A successful capture: a 2xx answer whose body is stored."""
        return self.status is not None and 200 <= self.status < 300 and self.blob is not None


@dataclass(slots=True)
class RunInfo:
    run: str
    started_at: str
    options: dict[str, Any]
    ended_at: str | None = None
    outcome: str | None = None  # complete, interrupted, failed; None while running or if killed
    counts: dict[str, Any] = field(default_factory=dict)
    captures: int = 0

    @property
    def outcome_or_guess(self) -> str:
        # A run log without a run_end line belongs to a process that was killed (or still runs).
        return self.outcome or "interrupted"


@dataclass(frozen=True, slots=True)
class LogProblem:
    """A line of a run log that could not be read: a torn write or a damaged file."""

    file: str
    line: int
    reason: str
    # The log's last line, cut short: a run stopped while writing it (a power cut, say). What
    # it recorded is not indexed, so the next fetch asks for it again.
    torn: bool = False

    @property
    def where(self) -> str:
        """runs/<file> line <n>; without the line when all of the file is at fault (line 0)."""
        place = f"runs/{self.file}"
        return f"{place} line {self.line}" if self.line else place


_CAPTURE_FIELDS = frozenset(Capture.__slots__)
# Fields that hold one of a few values across a whole archive: the index keeps one copy of each
# value instead of one per capture (a quarter of the index's memory).
_REPEATED_FIELDS = ("run", "method", "kind", "content_type")


def _capture_from_record(record: dict[str, Any]) -> Capture:
    fields = {name: value for name, value in record.items() if name in _CAPTURE_FIELDS}
    for name in _REPEATED_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = sys.intern(fields[name])
    fields.setdefault("labels", {})
    return Capture(**fields)


def read_run_log(path: Path) -> Iterator[dict[str, Any] | LogProblem]:
    """Yield each record of one run log, or a LogProblem for a line that cannot be read (line
    0: the log itself cannot be)."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as error:  # a directory in a log's place, a log without read permission
        yield LogProblem(path.name, 0, f"cannot be read ({error.strerror or error})")
        return
    with file:
        for number, line in enumerate(file, start=1):
            if not line.endswith(b"\n"):
                yield LogProblem(
                    path.name, number, "torn record (no end of line): truncated file", torn=True
                )
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                yield LogProblem(path.name, number, "unreadable record (not JSON)")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("type"), str):
                yield LogProblem(path.name, number, "unreadable record (no type)")
                continue
            if (reason := _shape_problem(record)) is not None:
                yield LogProblem(path.name, number, reason)
                continue
            yield record


_MISSING = object()  # an instance of no type below
_NONE = type(None)
# What each record type must hold to be used, field by field: the types its value may have, and
# the value an optional field stands for when absent. A record of another type is yielded as is
# (readers skip types they do not know); one that breaks its shape is a LogProblem, so that no
# reader indexes half a record or crashes on one.
_RECORD_SHAPES: dict[str, dict[str, tuple[tuple[type, ...], object]]] = {
    "run_start": {"run": ((str,), _MISSING), "started_at": ((str,), _MISSING),
                  "options": ((dict,), _MISSING)},
    "run_end": {"run": ((str,), _MISSING), "ended_at": ((str,), _MISSING),
                "outcome": ((str,), _MISSING), "counts": ((dict, _NONE), None)},
    "capture": {"run": ((str,), _MISSING), "seq": ((int,), _MISSING),
                "started_at": ((str,), _MISSING), "method": ((str,), _MISSING),
                "path": ((str,), _MISSING), "query": ((str,), _MISSING),
                "status": ((int, _NONE), _MISSING), "elapsed_ms": ((int, float), _MISSING),
                "kind": ((str,), _MISSING), "key": ((str,), _MISSING),
                "blob": ((str, _NONE), _MISSING), "size": ((int, _NONE), _MISSING),
                "content_type": ((str, _NONE), _MISSING), "error": ((str, _NONE), _MISSING),
                "labels": ((dict,), {})},
}  # fmt: skip


def _shape_problem(record: dict[str, Any]) -> str | None:
    """Why a record cannot be used (a field missing or of the wrong type), or None."""
    for name, (types, default) in _RECORD_SHAPES.get(record["type"], {}).items():
        if not isinstance(record.get(name, default), types):
            return f"unreadable record ({record['type']} without a valid {name!r})"
    return None


class CorruptBlob(ValueError):
    """A blob file that no longer holds the body its name is the hash of."""


class InvalidBody(ValueError):
    """A body that is not what it claims to be: only whole, valid bodies become blobs."""


def check_body(body: bytes, content_type: str | None) -> None:
    """Raise InvalidBody unless body parses as JSON, or as UTF-8 text for a declared text type."""
    media_type = (content_type or "application/json").split(";")[0].strip().lower()
    if media_type.startswith("text/") and media_type != "text/html":
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidBody(f"body is not UTF-8 text ({media_type})") from None
        return
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidBody(f"body is not valid JSON (declared {media_type})") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file_atomically(path: Path, data: bytes, tmp_dir: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".write-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _flock_within(fd: int, operation: int, seconds: float) -> bool:
    """Take a lock, trying again for a moment: `status` and `verify` hold a shared lock for an
    instant to see whether a writer runs, and a writer starting then is not refused for it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def _lock_holder(fd: int) -> str:
    """The pid the writer holding the lock wrote into its file ("unknown" if none yet)."""
    return os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"


def _disk_error(error: OSError, root: Path) -> ArchiveError:
    if error.errno == errno.ENOSPC:
        return ArchiveError(f"disk full while writing to the archive {root}; nothing was lost")
    return ArchiveError(f"cannot write to the archive {root}: {error.strerror or error}")


class Archive:
    """A read view of an archive, with the index the crawler and transform query.

    Opening reads every run log once and keeps, per (kind, key), the latest successful capture and
    the latest capture of any outcome: lookups are dictionary reads, not rescans.
    """

    def __init__(self, root: Path, info: dict[str, Any]) -> None:
        self.root = root
        self.info = info
        self._objects = str(root / "objects")
        self._ok: dict[str, dict[str, Capture]] = {}
        self._any: dict[str, dict[str, Capture]] = {}
        self.runs: dict[str, RunInfo] = {}
        # Lines of the run logs that could not be read: what they recorded is not indexed.
        self.log_problems: list[LogProblem] = []
        self._load()

    # -- paths ---------------------------------------------------------------------------------

    @property
    def objects_dir(self) -> Path:
        return self.root / "objects"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def blob_path(self, blob_id: str) -> Path:
        return Path(self._blob_file(blob_id))

    def _blob_file(self, blob_id: str) -> str:
        # Plain strings: a build reads thousands of blobs, and pathlib cost more than zstd here.
        match = _BLOB_ID.fullmatch(blob_id)
        if match is None:
            raise ValueError(f"not a blob id: {blob_id!r}")
        digest = match[1]
        return f"{self._objects}/{digest[:2]}/{digest[2:]}"

    # -- reading -------------------------------------------------------------------------------

    def _load(self) -> None:
        for _, item in self.iter_records():
            if isinstance(item, LogProblem):
                self.log_problems.append(item)
            else:
                self._index(item)

    def _index(self, record: dict[str, Any]) -> None:
        kind = record["type"]
        if kind == "capture":
            capture = _capture_from_record(record)
            self._remember(capture)
            if capture.run in self.runs:
                self.runs[capture.run].captures += 1
        elif kind == "run_start":
            self.runs[record["run"]] = RunInfo(
                run=record["run"], started_at=record["started_at"], options=record["options"]
            )
        elif kind == "run_end" and record["run"] in self.runs:
            run = self.runs[record["run"]]
            run.ended_at = record["ended_at"]
            run.outcome = record["outcome"]
            run.counts = record.get("counts") or {}

    def _remember(self, capture: Capture) -> None:
        # Logs are read in run order and records in seq order, so the last one seen is the latest.
        self._any.setdefault(capture.kind, {})[capture.key] = capture
        if capture.ok:
            self._ok.setdefault(capture.kind, {})[capture.key] = capture

    def latest(self, kind: str, key: str, *, ok_only: bool = True) -> Capture | None:
        """The latest successful capture of (kind, key), or with ok_only=False the latest of any."""
        return (self._ok if ok_only else self._any).get(kind, {}).get(key)

    def latest_of_kind(self, kind: str, *, ok_only: bool = True) -> dict[str, Capture]:
        """Every key of a kind mapped to its latest successful (or any) capture; do not modify."""
        return (self._ok if ok_only else self._any).get(kind, {})

    def read_blob(self, blob_id: str) -> bytes:
        """The body exactly as it was received; CorruptBlob when the file no longer holds it."""
        compressed = _read_file(self._blob_file(blob_id))
        try:
            # Every blob pelodump writes records its size: one without is refused below.
            if zstandard.frame_content_size(compressed) > MAX_BODY_BYTES:
                raise CorruptBlob("damaged on disk: its header claims an impossible size")
            body = _decompressor().decompress(compressed)
        except zstandard.ZstdError as error:
            raise CorruptBlob(f"damaged on disk: cannot be decompressed ({error})") from None
        # A damaged file can still decompress, even to valid JSON: only the hash tells.
        if blob_id_of(body) != blob_id:
            raise CorruptBlob("damaged on disk: content does not match its hash")
        return body

    def captures_of_kind(self, kind: str) -> Iterator[Capture]:
        """Every successful capture of a kind, oldest first, read afresh from the logs."""
        for _, record in self.iter_records():
            if isinstance(record, dict) and record["type"] == "capture" and record["kind"] == kind:
                capture = _capture_from_record(record)
                if capture.ok:
                    yield capture

    def iter_records(self) -> Iterator[tuple[Path, dict[str, Any] | LogProblem]]:
        """Every record of every run log in order, read afresh from disk (for verify and status)."""
        if not self.runs_dir.is_dir():  # made with the archive: gone, every record is gone
            yield self.runs_dir, LogProblem("", 0, "missing: the records of every capture are gone")
            return
        try:  # not glob: it takes a directory it cannot read for an empty one
            logs = sorted(p for p in self.runs_dir.iterdir() if p.name.endswith(".jsonl"))
        except OSError as error:
            yield self.runs_dir, LogProblem("", 0, f"cannot be read ({error.strerror or error})")
            return
        for log in logs:
            for item in read_run_log(log):
                yield log, item

    def writer_pid(self) -> str | None:
        """The pid of the pelodump writing to this archive now ("unknown" if it wrote none), or
        None when nothing is writing (the writer's lock is free)."""
        try:
            fd = os.open(self.root / "lock", os.O_RDONLY)
        except OSError:  # no lock file: no writer ever ran, or one cannot be told
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _lock_holder(fd)
        except OSError:
            return None
        finally:
            os.close(fd)  # closing also lets go of a shared lock taken above
        return None

    @contextlib.contextmanager
    def reading_lock(self) -> Iterator[None]:
        """Hold a shared lock while reading everything (verify): refused while a writer runs."""
        try:  # not created if missing: a check changes nothing in the archive
            fd = os.open(self.root / "lock", os.O_RDONLY)
        except OSError:  # no writer has ever run, or the file cannot be read: no lock to take
            yield
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _lock_holder(fd)
                raise ArchiveError(
                    f"archive {self.root} is being written by pelodump (pid {holder}); "
                    "try again when it has finished"
                ) from None
            yield
        finally:
            os.close(fd)

    # -- writing -------------------------------------------------------------------------------

    def begin_run(self, options: dict[str, Any]) -> RunWriter:
        """Take the writer's lock and start a run; use as a context manager."""
        return RunWriter(self, options)


def open_archive(root: Path | str, *, create: bool = False) -> Archive:
    """Open the archive at root, creating it first if asked and there is none.

    A directory that holds nothing but a README counts as empty (the repository's `archive/`), and
    so does one that a creation killed before it wrote the format file left behind.
    An archive of an unknown major version is refused and left untouched.
    """
    root = Path(root)
    format_file = root / FORMAT_FILE
    if not format_file.exists():
        if not create:
            raise ArchiveError(f"no archive at {root} (run 'pelodump fetch' or 'pelodump demo')")
        _create_archive(root)
    try:
        info = orjson.loads(format_file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise ArchiveError(f"cannot read {format_file}: {error}") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT_NAME:
        raise ArchiveError(f"{root} is not a pelodump archive ({FORMAT_FILE} is not ours)")
    major = str(info.get("version", "")).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise ArchiveError(
            f"archive {root} has format version {info.get('version')!r}; this pelodump reads "
            f"version {FORMAT_VERSION.split('.')[0]}.x: upgrade pelodump (the archive is untouched)"
        )
    return Archive(root, info)


def _create_archive(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise ArchiveError(f"{root} is not a directory")
    if root.exists() and not all(_left_by_creation(p) for p in root.iterdir()):
        raise ArchiveError(f"{root} is not empty and is not a pelodump archive")
    try:
        for sub in ("objects", "runs", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        info = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "archive_id": secrets.token_hex(16),
            "created_at": utc_now(),
            "created_by": f"pelodump {__version__}",
        }
        # Written last: a directory without it is not yet an archive.
        _write_file_atomically(
            root / FORMAT_FILE, orjson.dumps(info, option=orjson.OPT_INDENT_2), root / "tmp"
        )
    except OSError as error:
        raise _disk_error(error, root) from None


def _left_by_creation(path: Path) -> bool:
    """What may be in a directory that is not yet an archive: a README, or what a creation that
    was killed before writing the format file leaves (empty directories, temp files in tmp/)."""
    if path.name == "README.md":
        return True
    if path.name in ("objects", "runs") and path.is_dir() and not path.is_symlink():
        return not any(path.iterdir())
    return path.name == "tmp" and path.is_dir() and not path.is_symlink()


def new_run_id() -> str:
    """Run ids sort in time order: logs are replayed in that order to find the latest capture."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)


class RunWriter:
    """The single writer of an archive for the length of one run.

    Holds an exclusive OS lock on <root>/lock (released by the kernel when the process dies, so a
    killed writer never leaves a stale lock). Safe to call `save_capture` from several threads.
    """

    def __init__(self, archive: Archive, options: dict[str, Any]) -> None:
        self.archive = archive
        self.options = options
        self.run = new_run_id()
        self.counts: dict[str, int] = {
            "captures": 0,
            "new_blobs": 0,
            "deduplicated": 0,
            "repaired": 0,
        }
        self._lock = threading.Lock()
        self._parents_lock = threading.Lock()
        self._durable_parents: set[Path] = set()  # objects/ab directories made durable this run
        # Blobs being linked into place whose directory is not yet fsynced: seen by another
        # thread, such a blob's name may not be on disk yet.
        self._linking: set[Path] = set()
        self._seq = 0
        self._lock_fd: int | None = None
        self._log_fd: int | None = None
        self._ended = False

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> RunWriter:
        self._acquire_lock()
        try:
            self._remove_leftover_temp_files()
            log_path = self.archive.runs_dir / f"{self.run}.jsonl"
            self._log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND)
            _fsync_dir(self.archive.runs_dir)
            started_at = utc_now()
            self._append(
                {
                    "type": "run_start",
                    "run": self.run,
                    "started_at": started_at,
                    "options": self.options,
                    "pid": os.getpid(),
                    "pelodump": __version__,
                }
            )
        except OSError as error:
            self._release()
            raise _disk_error(error, self.archive.root) from None
        except BaseException:
            self._release()
            raise
        self.archive.runs[self.run] = RunInfo(self.run, started_at, self.options)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._ended:
                if exc_type is None:
                    outcome = "complete"
                elif issubclass(exc_type, KeyboardInterrupt):
                    outcome = "interrupted"
                else:
                    outcome = "failed"
                with contextlib.suppress(OSError, ArchiveError):  # disk full: the log says killed
                    self.end(outcome)
        finally:
            self._release()

    def end(self, outcome: str, counts: dict[str, Any] | None = None) -> None:
        """Record how the run ended: complete, interrupted or failed."""
        if self._ended:
            return
        self._ended = True
        merged = {**self.counts, **(counts or {})}
        self._append(
            {
                "type": "run_end",
                "run": self.run,
                "ended_at": utc_now(),
                "outcome": outcome,
                "counts": merged,
            }
        )
        info = self.archive.runs[self.run]
        info.ended_at, info.outcome, info.counts = utc_now(), outcome, merged

    def _acquire_lock(self) -> None:
        path = self.archive.root / "lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:  # a read-only archive, a directory in the lock's place
            raise _disk_error(error, self.archive.root) from None
        if not _flock_within(fd, fcntl.LOCK_EX, seconds=0.25):
            holder = _lock_holder(fd)
            os.close(fd)
            raise ArchiveError(
                f"archive {self.archive.root} is in use by another pelodump (pid {holder}); "
                "wait for it to finish"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as error:  # a full disk: the pid is only a courtesy, but say so
            os.close(fd)
            raise _disk_error(error, self.archive.root) from None
        self._lock_fd = fd

    def _release(self) -> None:
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        if self._lock_fd is not None:
            # Empty the pid first: a lock file naming a pid means "held" only while it is locked.
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _remove_leftover_temp_files(self) -> None:
        # Only the lock holder writes temp files, so any present now were left by a killed writer.
        self.archive.tmp_dir.mkdir(exist_ok=True)
        tmp = self.archive.tmp_dir
        for leftover in tmp.iterdir():
            # pelodump makes no directory there: remove one, unless tmp/ is a link to elsewhere
            if leftover.is_dir() and not leftover.is_symlink() and not tmp.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                leftover.unlink()

    # -- saving --------------------------------------------------------------------------------

    def save_capture(
        self,
        *,
        kind: str,
        key: str,
        method: str,
        path: str,
        query: str,
        status: int | None,
        elapsed_ms: float,
        body: bytes | None = None,
        content_type: str | None = None,
        error: str | None = None,
        started_at: str | None = None,
        labels: dict[str, Any] | None = None,
    ) -> Capture:
        """Store the body (if any) and append the capture's record; durable when it returns.

        Pass body=None for a failed exchange. A body must parse as JSON, or for a declared text/*
        type (the history CSV) as UTF-8: else InvalidBody, and nothing is written. Raises
        ArchiveError when the disk refuses.
        """
        if self._log_fd is None:
            raise RuntimeError("save_capture outside of a run")
        blob = None
        if body is not None:
            check_body(body, content_type)
            try:
                blob = self.save_blob(body)
            except OSError as err:
                raise _disk_error(err, self.archive.root) from None
        with self._lock:
            self._seq += 1
            capture = Capture(
                run=self.run,
                seq=self._seq,
                started_at=started_at or utc_now(),
                method=method,
                path=path,
                query=query,
                status=status,
                elapsed_ms=round(elapsed_ms, 1),
                kind=kind,
                key=key,
                blob=blob,
                size=None if body is None else len(body),
                content_type=content_type,
                error=error,
                labels=labels or {},
            )
            try:
                self._append({"type": "capture", **asdict(capture)})
            except OSError as err:
                raise _disk_error(err, self.archive.root) from None
            self.counts["captures"] += 1
            self.archive._remember(capture)
            self.archive.runs[self.run].captures += 1
        return capture

    def save_blob(self, body: bytes) -> str:
        """Store a body under its hash unless a sound copy is stored already; returns its blob id.

        A copy damaged on disk since it was written is replaced, atomically: capturing the same
        body again (`pelodump fetch --full`) repairs what `pelodump verify` found.
        """
        blob_id = blob_id_of(body)
        final = self.archive.blob_path(blob_id)
        self._make_durable_parent(final.parent)
        damaged = final.exists() and not self._holds_sound_copy(blob_id)
        if final.exists() and not damaged:
            with self._parents_lock:
                linking = final in self._linking
            if linking:  # another thread's, its name not yet on disk: wait for it by fsyncing
                _fsync_dir(final.parent)
            self._count("deduplicated")
            return blob_id
        compressed = _compressor().compress(body)
        fd, tmp = tempfile.mkstemp(dir=self.archive.tmp_dir, prefix=".blob-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(compressed)
                file.flush()
                os.fsync(file.fileno())
            with self._parents_lock:
                self._linking.add(final)
            try:
                if damaged:
                    os.replace(tmp, final)
                    self._count("repaired")
                else:
                    try:
                        os.link(tmp, final)  # unlike rename, never replaces another's blob
                        self._count("new_blobs")
                    except FileExistsError:
                        self._count("deduplicated")
                _fsync_dir(final.parent)
            finally:
                with self._parents_lock:
                    self._linking.discard(final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return blob_id

    def _make_durable_parent(self, parent: Path) -> None:
        """Make a blob's directory (objects/ab) exist, its name durable in objects/, once per run:
        under a lock, so that no thread links a blob into a directory that another thread has
        made but not yet made durable."""
        with self._parents_lock:
            if parent not in self._durable_parents:
                parent.mkdir(exist_ok=True)
                _fsync_dir(self.archive.objects_dir)
                self._durable_parents.add(parent)

    def _holds_sound_copy(self, blob_id: str) -> bool:
        try:
            self.archive.read_blob(blob_id)
        except (CorruptBlob, OSError):
            return False
        return True

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def _append(self, record: dict[str, Any]) -> None:
        assert self._log_fd is not None
        line = orjson.dumps(record) + b"\n"
        end = os.fstat(self._log_fd).st_size
        try:
            written = os.write(self._log_fd, line)  # one write: a kill never leaves half a record
            if written != len(line):
                raise OSError(errno.ENOSPC, "short write to the run log")
            os.fdatasync(self._log_fd)
        except OSError:
            # Cut a partial line off again, so the next record does not fuse with it.
            with contextlib.suppress(OSError):
                os.ftruncate(self._log_fd, end)
            raise
