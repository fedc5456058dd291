"""The archive keeps every body exactly, never tears, and admits one writer at a time."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import orjson
import pytest
from helpers import save_capture

from pelodump import archive as archive_module
from pelodump.archive import Capture, CorruptBlob, InvalidBody, open_archive
from pelodump.cli import main
from pelodump.errors import ArchiveError
from pelodump.status import archive_status
from pelodump.verify import verify_archive


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_round_trip_keeps_bytes_exactly_and_stores_duplicates_once(tmp_path: Path) -> None:
    body = b'{"id": "abc",  "values": [1, 2.50, null]}'  # odd spacing must survive
    with open_archive(tmp_path / "a", create=True).begin_run({"command": "test"}) as run:
        first = save_capture(run, "workout", "abc", body, labels={"status": "COMPLETE"})
        second = save_capture(run, "workout", "abc", body)
        save_capture(run, "workout", "def", b"{}")
    assert first.blob == second.blob == "sha256:" + hashlib.sha256(body).hexdigest()
    assert run.counts == {"captures": 3, "new_blobs": 2, "deduplicated": 1, "repaired": 0}

    archive = open_archive(tmp_path / "a")
    latest = archive.latest("workout", "abc")
    assert latest is not None and latest.seq == 2
    assert archive.read_blob(latest.blob) == body
    assert archive.latest("workout", "abc", ok_only=True).labels == {}
    assert len(list((tmp_path / "a" / "objects").glob("*/*"))) == 2
    assert set(archive.latest_of_kind("workout")) == {"abc", "def"}
    [info] = archive.runs.values()
    assert info.outcome == "complete" and info.captures == 3


def test_failed_exchanges_are_recorded_but_never_latest_success(tmp_path: Path) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "w1", b'{"ok": 1}')
        run.save_capture(
            kind="workout", key="w1", method="GET", path="/api/workout/w1", query="",
            status=503, elapsed_ms=2.0, error="HTTP 503",
        )  # fmt: skip
    archive = open_archive(tmp_path)
    assert archive.latest("workout", "w1").status == 200
    assert archive.latest("workout", "w1", ok_only=False).status == 503
    assert archive_status(archive).failed["workout"] == 1


def test_invalid_bodies_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        with pytest.raises(InvalidBody):
            save_capture(run, "workout", "w1", b'{"truncated": [1, 2')
        with pytest.raises(InvalidBody):
            save_capture(run, "workout", "w1", b"<html>Error 1015: You are rate limited</html>")
        csv = run.save_capture(
            kind="history_csv", key="u", method="GET", path="/x", query="", status=200,
            elapsed_ms=1, body=b"Workout Timestamp,Live/On-Demand\n", content_type="text/csv",
        )  # fmt: skip
    assert csv.blob is not None
    assert len(list((tmp_path / "objects").glob("*/*"))) == 1
    assert verify_archive(open_archive(tmp_path), read_data=True).clean


def test_concurrent_puts_store_each_body_once_and_keep_every_record(tmp_path: Path) -> None:
    bodies = [orjson.dumps({"n": n % 10}) for n in range(200)]  # 10 distinct bodies, 20 times each

    async def put_all(run) -> None:
        await asyncio.gather(
            *(
                asyncio.to_thread(save_capture, run, "workout", str(n), body)
                for n, body in enumerate(bodies)
            )
        )

    with open_archive(tmp_path, create=True).begin_run({}) as run:
        asyncio.run(put_all(run))
    archive = open_archive(tmp_path)
    assert len(archive.latest_of_kind("workout")) == 200
    assert len(list((tmp_path / "objects").glob("*/*"))) == 10
    assert sorted(c.seq for c in archive.latest_of_kind("workout").values()) == list(range(1, 201))
    assert verify_archive(archive, read_data=True).clean


WRITER = textwrap.dedent(
    """
    import os, sys
    from pelodump.archive import open_archive
    with open_archive(sys.argv[1], create=True).begin_run({"command": "writer"}) as run:
        print("ready", flush=True)
        n = 0
        while True:
            n += 1
            size = 1000 + (n * 7919) % 300000  # some bodies big enough to take several writes
            body = b'{"n": %d, "pad": "' % (n % 50) + b"x" * size + b'"}'
            run.save_capture(kind="workout", key=str(n), method="GET", path="/p", query="",
                             status=200, elapsed_ms=1.0, body=body)
    """
)


def start_writer(root: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_writers_killed_at_random_moments_never_leave_partial_blobs_or_dangling_records(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    rng = random.Random(7)
    for _ in range(8):
        writer = start_writer(root)
        time.sleep(rng.uniform(0.02, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        archive = open_archive(root)
        report = verify_archive(archive, read_data=True)
        assert report.clean, report.problems
        for capture in archive.latest_of_kind("workout").values():
            assert archive.read_blob(capture.blob).startswith(b'{"n": ')
    assert len(open_archive(root).runs) == 8
    assert all(run.outcome is None for run in open_archive(root).runs.values())
    # The next writer clears what the killed ones left in tmp/.
    with open_archive(root).begin_run({}):
        assert list((root / "tmp").iterdir()) == []


def test_second_writer_is_refused_naming_the_holder_and_lock_is_freed_by_sigkill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "archive"
    writer = start_writer(root)
    try:
        with pytest.raises(ArchiveError, match=f"pid {writer.pid}"):
            open_archive(root).begin_run({}).__enter__()
        assert main(["verify", "--archive", str(root)]) == 2
        assert f"pid {writer.pid}" in capsys.readouterr().err
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    with open_archive(root).begin_run({}) as run:  # the kernel released the dead writer's lock
        save_capture(run, "workout", "after", b"{}")
    with open_archive(root).begin_run({}):  # and a clean exit releases it too
        pass


def test_verify_names_a_flipped_byte_a_deleted_blob_and_a_truncated_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        flipped = save_capture(run, "workout", "a", orjson.dumps({"a": list(range(100))}))
        deleted = save_capture(run, "workout", "b", orjson.dumps({"b": 2}))
        save_capture(run, "workout", "c", orjson.dumps({"c": 3}))
    archive = open_archive(tmp_path)
    assert main(["verify", "--archive", str(tmp_path), "--read-data"]) == 0

    path = archive.blob_path(flipped.blob)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    archive.blob_path(deleted.blob).unlink()
    [log] = (tmp_path / "runs").glob("*.jsonl")
    log.write_bytes(log.read_bytes()[:-20])
    stray = path.parent / "not-a-blob"  # a file no SHA-256 can name
    stray.write_bytes(b"left here by hand")

    capsys.readouterr()
    assert main(["verify", "--archive", str(tmp_path), "--read-data"]) == 1
    out = capsys.readouterr().out
    assert f"objects/{flipped.blob[7:9]}/{flipped.blob[9:]}: damaged on disk" in out
    # Not damage to repair (fetch --full could not): a note, as for any file pelodump never wrote.
    assert (
        f"note: objects/{path.parent.name}/not-a-blob: not a blob (pelodump writes no such" in out
    )
    assert f"names missing blob {deleted.blob}" in out
    assert f"runs/{log.name} line 5: torn record" in out
    # Without --read-data the missing blob and the torn log are still found.
    assert main(["verify", "--archive", str(tmp_path)]) == 1


@pytest.mark.parametrize(
    "record",
    [
        {"type": "capture"},
        {"type": "run_start"},
        {"type": "run_end"},
        {"type": ["capture"]},
        "capture with status '200'",
        "capture with labels []",
    ],
    ids=str,
)
def test_a_valid_json_record_of_the_wrong_shape_is_reported_never_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: object
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        good = save_capture(run, "workout", "a", orjson.dumps({"a": 1}))
    [log] = (tmp_path / "runs").glob("*.jsonl")
    if isinstance(record, str):  # a whole capture record with one field spoilt
        whole = orjson.loads(log.read_bytes().splitlines()[1])
        field, value = {"status": ("status", "200"), "labels": ("labels", [])}[record.split()[2]]
        record = {**whole, "seq": 99, field: value}
    with log.open("ab") as file:
        file.write(orjson.dumps(record) + b"\n")

    archive = open_archive(tmp_path)  # the spoilt line is left out, the rest still indexed
    assert archive.latest("workout", "a") == good
    assert archive_status(archive).captures["workout"] == 1
    assert main(["status", "--archive", str(tmp_path)]) == 0
    assert main(["verify", "--archive", str(tmp_path)]) == 1
    assert f"runs/{log.name} line 4: unreadable record" in capsys.readouterr().out
    # The build uses what the logs still hold and says what it could not read.
    assert main(["build", "--archive", str(tmp_path), "--out", str(tmp_path / "t")]) == 1
    assert f"run log runs/{log.name} line 4: unreadable record" in capsys.readouterr().err


def test_the_capture_shape_names_every_capture_field() -> None:
    assert set(archive_module._RECORD_SHAPES["capture"]) == set(Capture.__slots__)


def test_unknown_major_format_version_is_refused_and_the_archive_is_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "a", b"{}")
    format_file = tmp_path / "pelodump-archive.json"
    info = orjson.loads(format_file.read_bytes())
    format_file.write_bytes(orjson.dumps({**info, "version": "2.0"}))
    before = tree_digest(tmp_path)
    with pytest.raises(ArchiveError, match=r"format version '2\.0'"):
        open_archive(tmp_path, create=True)
    for command in (["verify"], ["status"]):
        assert main([*command, "--archive", str(tmp_path)]) == 2
        assert "format version" in capsys.readouterr().err
    assert tree_digest(tmp_path) == before


def test_a_directory_with_other_files_is_not_taken_over(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ArchiveError, match="not empty"):
        open_archive(tmp_path, create=True)
    readme_only = tmp_path / "fresh"
    readme_only.mkdir()
    (readme_only / "README.md").write_text("format docs")
    assert open_archive(readme_only, create=True).runs == {}


def test_disk_full_is_a_clear_error_and_leaves_the_archive_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "kept", b'{"kept": true}')
        real_write = os.write

        def full_after_half(fd: int, data: bytes) -> int:
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(archive_module.os, "write", full_after_half)
        with pytest.raises(ArchiveError, match="disk full"):
            save_capture(run, "workout", "lost", b'{"lost": true}')
        monkeypatch.undo()
        save_capture(run, "workout", "later", b'{"later": true}')
    archive = open_archive(tmp_path)
    assert set(archive.latest_of_kind("workout")) == {"kept", "later"}
    assert verify_archive(archive, read_data=True).clean


def test_status_reports_runs_kinds_workouts_dates_and_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        body = orjson.dumps({"pad": "x" * 5000})
        save_capture(run, "workout", "w1", body, labels={"start_time": 1_600_000_000})
        save_capture(run, "workout", "w2", body, labels={"start_time": 1_700_000_000})
        save_capture(run, "performance_graph", "w1", body)
        # Labels keep what the API sent: a start time that is no time is left out of the dates.
        for key, odd in [("w3", "x"), ("w4", 10**15), ("w5", True), ("w6", None)]:
            save_capture(run, "workout", key, body, labels={"start_time": odd})
    assert main(["status", "--archive", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "workouts: 6 with details, 1 with graphs" in out
    assert "workout dates: 2020-09-13 to 2023-11-14" in out
    assert "complete" in out
    status = archive_status(open_archive(tmp_path))
    assert status.raw_bytes == 7 * len(body) and status.blobs == 1
    assert status.raw_bytes / status.disk_bytes > 10


def test_a_blob_whose_header_claims_terabytes_is_damaged_not_a_crash(tmp_path: Path) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        capture = save_capture(run, "workout", "w1", {"id": "w1"})
    archive = open_archive(tmp_path)
    # A zstd frame of 16 bytes: magic, a header claiming 32 TiB of content, one empty block.
    forged = b"\x28\xb5\x2f\xfd\xe0" + (1 << 45).to_bytes(8, "little") + b"\x01\x00\x00"
    archive.blob_path(capture.blob).write_bytes(forged)
    with pytest.raises(CorruptBlob, match="impossible size"):
        archive.read_blob(capture.blob)
    report = verify_archive(archive, read_data=True)
    assert any("impossible size" in problem for problem in report.problems), report.problems


def test_capturing_a_body_again_repairs_its_damaged_blob(tmp_path: Path) -> None:
    body = orjson.dumps({"values": list(range(500))})
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        capture = save_capture(run, "workout", "w1", body)
    path = open_archive(tmp_path).blob_path(capture.blob)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert not verify_archive(open_archive(tmp_path), read_data=True).clean

    with open_archive(tmp_path).begin_run({}) as run:
        save_capture(run, "workout", "w1", body)
    assert run.counts["repaired"] == 1
    archive = open_archive(tmp_path)
    assert archive.read_blob(capture.blob) == body
    assert verify_archive(archive, read_data=True).clean


def test_a_lock_that_cannot_be_taken_is_an_archive_error_not_a_crash(tmp_path: Path) -> None:
    open_archive(tmp_path, create=True)
    (tmp_path / "lock").unlink(missing_ok=True)
    (tmp_path / "lock").mkdir()  # as a damaged or hand-edited archive may have it
    with pytest.raises(
        ArchiveError, match=f"cannot write to the archive {tmp_path}: Is a directory"
    ):
        open_archive(tmp_path).begin_run({}).__enter__()
    (tmp_path / "lock").rmdir()
    (tmp_path / "lock").symlink_to("/dev/full")  # the pid cannot be written there
    with pytest.raises(ArchiveError, match=f"cannot write to the archive {tmp_path}: "):
        open_archive(tmp_path).begin_run({}).__enter__()


def test_status_calls_the_run_a_writer_is_running_running_not_interrupted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "a", {"id": "a"})
    killed = open_archive(tmp_path).begin_run({})
    killed.__enter__()  # a run that never ends...
    killed._release()  # ...because its process died: the lock is let go, no run_end written
    with open_archive(tmp_path).begin_run({}):  # and one running now
        assert main(["status", "--archive", str(tmp_path)]) == 0
        outcomes = [line.split()[1] for line in capsys.readouterr().out.splitlines()[2:5]]
        assert outcomes == ["complete", "interrupted", "running"]
    assert main(["status", "--archive", str(tmp_path)]) == 0
    assert "running" not in capsys.readouterr().out


def test_a_writer_starting_while_status_looks_is_not_refused(tmp_path: Path) -> None:
    archive = open_archive(tmp_path, create=True)
    looking = True

    def status_under_watch() -> None:  # as `watch pelodump status` would, only faster
        while looking:
            archive.writer_pid()

    watcher = threading.Thread(target=status_under_watch)
    watcher.start()
    try:
        for _ in range(100):  # measured without the retry: ~1 in 6 begin_runs refused
            with open_archive(tmp_path).begin_run({}):
                pass
    finally:
        looking = False
        watcher.join()
    assert sum(1 for _ in (tmp_path / "runs").glob("*.jsonl")) == 100


def test_an_archive_whose_runs_are_gone_fails_verify_and_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "a", {"id": "a"})
    for log in (tmp_path / "runs").iterdir():
        log.unlink()
    (tmp_path / "runs").rmdir()  # deleted by hand, say: every record with it
    assert main(["verify", "--archive", str(tmp_path)]) == 1
    assert (
        "problem: runs/: missing: the records of every capture are gone" in capsys.readouterr().out
    )
    assert main(["build", "--archive", str(tmp_path), "--out", str(tmp_path / "t")]) == 1
    assert "run log runs/: missing" in capsys.readouterr().err


def test_verify_finds_what_a_hand_or_a_bad_copy_did_to_the_logs_and_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        for key in "abc":
            save_capture(run, "workout", key, {"id": key, "values": list(range(50))})
    (tmp_path / "lock").unlink()
    [log] = (tmp_path / "runs").glob("*.jsonl")
    start, first, second, third, end = log.read_bytes().splitlines(keepends=True)
    spoilt = orjson.loads(third) | {"seq": 1}  # a capture whose seq repeats
    foreign = orjson.loads(second) | {"run": "20200101T000000.000000Z-000000", "seq": 4}
    no_body = orjson.loads(second) | {"seq": 5, "blob": None, "size": None, "error": None}
    lines = [start, first, second, orjson.dumps(spoilt) + b"\n", orjson.dumps(foreign) + b"\n"]
    log.write_bytes(b"".join([*lines, orjson.dumps(no_body) + b"\n", end]))
    headless = tmp_path / "runs" / "20990101T000000.000000Z-000000.jsonl"
    headless.write_bytes(third.replace(orjson.loads(third)["run"].encode(), headless.stem.encode()))
    blob = orjson.loads(first)["blob"]
    empty = open_archive(tmp_path).blob_path(blob)
    empty.write_bytes(b"")  # emptied, by a disk-full copy say
    (tmp_path / "objects" / "stray").mkdir()

    assert main(["verify", "--archive", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"runs/{log.name} seq 1: after seq 2 (repeated or out of order)" in out
    assert f"runs/{log.name}: a record of run '20200101T000000.000000Z-000000'" in out
    assert f"runs/{log.name} seq 5: answered 200 with neither a body nor an error" in out
    assert f"runs/{headless.name} seq 3: a capture before the log's run_start record" in out
    assert f"objects/{blob[7:9]}/{blob[9:]}: damaged on disk: the file is empty" in out
    assert "note: objects/stray: not a blob directory (pelodump made none)" in out
    assert not (tmp_path / "lock").exists()  # a check changes nothing

    # A body whose size is not its record's: seen when the data is read.
    for path in (tmp_path / "runs").iterdir():
        path.unlink()
    with open_archive(tmp_path).begin_run({}) as run:
        save_capture(run, "workout", "d", b'{"id": "d"}')
    [log] = (tmp_path / "runs").glob("*.jsonl")
    log.write_bytes(log.read_bytes().replace(b'"size":11', b'"size":12'))
    assert main(["verify", "--archive", str(tmp_path), "--read-data"]) == 1
    assert "11 bytes where its record says 12" in capsys.readouterr().out

    # Blobs but no record at all: the logs are gone, not the blobs stray.
    log.unlink()
    assert main(["verify", "--archive", str(tmp_path)]) == 1
    assert "runs/: no records, yet" in capsys.readouterr().out
    assert main(["status", "--archive", str(tmp_path)]) == 0


def test_status_and_the_next_writer_cope_with_odd_leftovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "a", {"id": "a"})
    (tmp_path / "objects" / "ab").mkdir()
    (tmp_path / "objects" / "ab" / ("0" * 62)).symlink_to(tmp_path / "nowhere")  # dangling
    [log] = (tmp_path / "runs").glob("*.jsonl")
    with log.open("ab") as file:
        file.write(b"not json\n")
    assert main(["status", "--archive", str(tmp_path)]) == 0
    assert "run logs: 1 lines that cannot be read (pelodump verify lists them)" in (
        capsys.readouterr().out
    )
    (tmp_path / "tmp" / "left-by-hand").mkdir()  # the writer owns tmp/: it clears it whole
    with open_archive(tmp_path).begin_run({}) as run:
        save_capture(run, "workout", "b", {"id": "b"})
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_format_readmes_reader_reads_a_graph_back_without_pelodump(tmp_path: Path) -> None:
    graph = {"seconds_since_pedaling_start": [0, 1], "metrics": []}
    with open_archive(tmp_path / "archive", create=True).begin_run({}) as run:
        save_capture(run, "performance_graph", "w1", {"old": True})
        save_capture(run, "performance_graph", "w1", graph)
    [log] = (tmp_path / "archive" / "runs").glob("*.jsonl")
    with log.open("ab") as file:
        file.write(b'{"type": "capture"}\n{"torn')  # damage the reader must step over
    readme = (Path(__file__).parent.parent / "archive" / "README.md").read_text()
    snippet = readme.split("## Reading a workout's graph without pelodump")[1]
    code = snippet.split("```python\n")[1].split("```")[0]
    script = tmp_path / "reader.py"
    script.write_text(f"WORKOUT_ID = 'w1'\n{code}\nprint(json.dumps(graph))\n")
    result = subprocess.run(
        [sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout) == graph


def test_a_record_of_a_type_not_yet_known_is_no_problem(tmp_path: Path) -> None:
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        save_capture(run, "workout", "a", {"id": "a"})
    [log] = (tmp_path / "runs").glob("*.jsonl")
    with log.open("ab") as file:
        file.write(b'{"type": "checkpoint", "note": "from a later pelodump"}\n')
    assert verify_archive(open_archive(tmp_path), read_data=True).clean


def test_no_record_names_a_blob_before_its_name_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real_fsync_dir = archive_module._fsync_dir
    monkeypatch.setattr(
        archive_module, "_fsync_dir", lambda d: (synced.append(Path(d)), real_fsync_dir(d))
    )
    root = tmp_path / "archive"
    body = orjson.dumps({"id": "a"})
    with open_archive(root, create=True).begin_run({}) as run:
        synced.clear()
        first = save_capture(run, "workout", "a", body)
        parent = open_archive(root).blob_path(first.blob).parent
        # The blob's directory, new: its name in objects/ first, then the blob's name in it.
        assert synced == [root / "objects", parent]

        synced.clear()
        save_capture(run, "workout", "b", body)  # the same body: stored, and durable, already
        assert synced == []

        # The same body while another thread has linked it but not yet synced its directory:
        # this capture's record must not come first.
        run._linking.add(open_archive(root).blob_path(first.blob))
        save_capture(run, "workout", "c", body)
        assert synced == [parent]
