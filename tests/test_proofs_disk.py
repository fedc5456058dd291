"""Proof that a full disk stops `pelodump fetch` with one clear line, loses nothing already
archived, leaves the archive consistent, and that the next run, with room again, completes."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from pelodump import archive as archive_module
from pelodump.archive import open_archive
from pelodump.cli import main
from pelodump.sim.member import Member
from pelodump.sim.server import Sim, sim_in_thread
from pelodump.verify import verify_archive


class FullDisk:
    """The archive module's `os` on a disk with room for `writes` more writes: the one after
    writes half its bytes and fails with ENOSPC, as a real write() does when the disk fills."""

    def __init__(self, writes: int) -> None:
        self.left = writes

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def _room(self, fd: int, data: bytes) -> None:
        self.left -= 1
        if self.left < 0:
            os.write(fd, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    def write(self, fd: int, data: bytes) -> int:  # run log records
        self._room(fd, data)
        return os.write(fd, data)

    def fdopen(self, fd: int, mode: str) -> Any:  # blob temp files
        disk, file = self, os.fdopen(fd, mode)

        class Filling:
            def __enter__(self) -> Filling:
                return self

            def __exit__(self, *exc: object) -> None:
                file.close()

            def write(self, data: bytes) -> int:
                file.flush()
                disk._room(file.fileno(), data)
                return file.write(data)

            def __getattr__(self, name: str) -> Any:
                return getattr(file, name)

        return Filling()


def run_cli(*args: str) -> int:
    """`pelodump` in this process, on a thread so that a hang fails the test instead of CI."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(list(args))), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), f"pelodump {args[0]} did not finish"
    return result[0]


def fetch(sim: Sim, root: Path, *more: str) -> int:
    return run_cli(
        "fetch", "--archive", str(root), "--api-url", sim.api_url, "--auth-url", sim.auth_url,
        "--rate", "500", "--quiet", *more,
    )  # fmt: skip


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("writes", [0, 1, 5, 25, 50, 90])
def test_a_full_disk_stops_fetch_with_one_line_and_the_next_run_completes(
    writes: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "archive"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PELODUMP_CONFIG_DIR", str(tmp_path / "config"))
    with sim_in_thread(member=Member(seed=41, workouts=40, in_progress=False)) as sim:
        monkeypatch.setenv("PELOTON_TOKEN", sim.access_token())
        # Something already archived, which the full disk must not cost.
        assert fetch(sim, root, "--no-csv") == 0
        for _ in range(20):  # new work for the run that fills the disk: about 130 writes
            sim.member.add_workout()
        before = tree(root)
        capsys.readouterr()

        with monkeypatch.context() as full:
            full.setattr(archive_module, "os", FullDisk(writes))
            assert fetch(sim, root) == 2
        out, err = capsys.readouterr()
        assert err.startswith("pelodump: error: disk full") and err.count("\n") == 1, err
        assert "Traceback" not in out + err

        archive = open_archive(root)
        report = verify_archive(archive, read_data=True)
        assert report.clean, report.problems
        after = tree(root)
        assert all(after.get(name) == data for name, data in before.items() if name != "lock")

        assert fetch(sim, root) == 0
        archive = open_archive(root)
        for workout_id in sim.member.workout_ids():
            assert archive.latest("performance_graph", workout_id) is not None
    assert verify_archive(archive, read_data=True).clean
    assert list((root / "tmp").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_a_text_body_whose_record_never_came_is_no_problem_for_verify(tmp_path: Path) -> None:
    """The disk can fill between a body and its record: the history CSV is then a blob no record
    names, which verify must not judge as JSON (nothing says what it is)."""
    with open_archive(tmp_path, create=True).begin_run({}) as run:
        run.save_blob(b"Workout Timestamp,Total Output\n2024-01-01 07:00 (UTC),100\n")
    report = verify_archive(open_archive(tmp_path), read_data=True)
    assert report.clean, report.problems
    assert [note for note in report.notes if "no record names this blob" in note]
