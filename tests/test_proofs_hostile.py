"""Proof that hostile and broken input meets one clear line and the documented exit code: bad
credentials and tokens, unreachable hosts, Cloudflare's HTML, ids that try to escape, an archive
from the future, a corrupt blob, a second writer. Every case runs `pelodump` in this process
against the simulator over loopback, from a directory that must stay empty, with $HOME elsewhere:
nothing is written outside the archive and the token cache, and nothing archived is lost."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

from pelodump.archive import open_archive
from pelodump.cli import main
from pelodump.sim.member import Member
from pelodump.sim.server import Sim, sim_in_thread
from pelodump.throttle import RetryPolicy

WORKOUTS = 12


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def assert_error(self, code: int, text: str) -> None:
        """One line on stderr, saying `text`; the exit code; no traceback anywhere."""
        assert self.code == code, (self.code, self.out, self.err)
        assert self.err.startswith("pelodump: error: ") and self.err.count("\n") == 1, self.err
        assert text in self.err, self.err
        assert "Traceback" not in self.out + self.err


class Bench:
    """A working directory, a $HOME and a token cache of our own, and the simulator."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], sim: Sim) -> None:
        self.tmp, self.capsys, self.sim = tmp_path, capsys, sim
        self.archive = tmp_path / "archive"

    def pelodump(self, *args: str) -> Outcome:
        """`pelodump` in this process, on a thread so that a hang fails the test, not CI."""
        self.capsys.readouterr()
        result: list[int | BaseException] = []

        def run() -> None:
            try:
                result.append(main(list(args)))
            except BaseException as error:  # a bug: hand it to the test's thread
                result.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive(), f"pelodump {args[0]} did not finish"
        if isinstance(result[0], BaseException):
            raise result[0]
        out, err = self.capsys.readouterr()
        return Outcome(result[0], out, err)

    def fetch(self, *more: str, api_url: str | None = None, auth_url: str | None = None) -> Outcome:
        return self.pelodump(
            "fetch", "--archive", str(self.archive), "--quiet", "--rate", "500",
            "--api-url", api_url or self.sim.api_url, "--auth-url", auth_url or self.sim.auth_url,
            *more,
        )  # fmt: skip

    def files(self) -> dict[str, str]:
        """Every file under the archive, by its SHA-256 (the lock file, a pid, aside)."""
        return {
            str(p.relative_to(self.archive)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in self.archive.rglob("*")
            if p.is_file() and p.name != "lock"
        }

    def assert_kept(self, before: dict[str, str]) -> None:
        after = self.files()
        assert {name: after.get(name) for name in before} == before


@pytest.fixture
def bench(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bench]:
    """An archive already holding a small member's history; ends by checking where files went."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("PELODUMP_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("PELOTON_TOKEN", "PELOTON_USERNAME", "PELOTON_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    # Retries without the waiting (the schedule is the throttle's business, see test_throttle).
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt, rng=None: 0.001)
    monkeypatch.setattr(RetryPolicy, "cooldown", lambda self, retry_after, attempt: 0.001)
    with sim_in_thread(member=Member(seed=51, workouts=WORKOUTS, in_progress=False)) as sim:
        bench = Bench(tmp_path, capsys, sim)
        monkeypatch.setenv("PELOTON_TOKEN", sim.access_token())
        assert bench.fetch().code == 0
        monkeypatch.delenv("PELOTON_TOKEN")
        yield bench
    assert list(work.iterdir()) == []
    assert not (tmp_path / "home").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"archive", "config", "work", "tables"}


# --- logging in --------------------------------------------------------------------------------


def test_wrong_password_is_exit_2_and_says_so(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = bench.files()
    monkeypatch.setenv("PELOTON_USERNAME", bench.sim.member.username)
    monkeypatch.setenv("PELOTON_PASSWORD", "not-the-password-9f2c")
    outcome = bench.fetch()
    outcome.assert_error(2, "login failed: wrong username or password")
    bench.assert_kept(before)
    assert "not-the-password-9f2c" not in outcome.out + outcome.err
    assert not any(
        b"not-the-password-9f2c" in p.read_bytes() for p in bench.tmp.rglob("*") if p.is_file()
    )


def test_an_expired_pasted_token_is_exit_2_and_says_to_copy_a_fresh_one(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = bench.files()
    token = bench.sim.access_token()
    bench.sim.tokens.expire_all_access_tokens()
    monkeypatch.setenv("PELOTON_TOKEN", token)
    outcome = bench.fetch()
    outcome.assert_error(2, "the pasted access token was rejected (expired?)")
    assert token not in outcome.err
    bench.assert_kept(before)


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("two words", "the pasted access token is empty or not one token"),
        ("Bearer", "the pasted access token is empty or not one token"),
        ("tab\tinside", "the pasted access token is empty or not one token"),
        ("nul\x00inside", "the pasted access token is empty or not one token"),
        ("eyJhbGciOi.not-a-real.token", "the pasted access token was rejected"),
        ("tøken-ünïcode", "the pasted access token"),
        ("x" * 20_000, "cannot read the member's profile from /api/me"),  # headers too large
    ],
    ids=["spaces", "bare-bearer", "tab", "nul", "unknown", "non-ascii", "huge"],
)
def test_a_malformed_pasted_token_is_exit_2_without_a_traceback(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, token: str, says: str
) -> None:
    before = bench.files()
    if "\x00" in token:  # no environment variable can hold a NUL: use --token-file
        token_file = bench.tmp / "config" / "token.txt"
        token_file.parent.mkdir(exist_ok=True)
        token_file.write_text(token)
        outcome = bench.fetch("--token-file", str(token_file))
    else:
        monkeypatch.setenv("PELOTON_TOKEN", token)
        outcome = bench.fetch()
    outcome.assert_error(2, says)
    assert token.split()[-1] not in outcome.err
    bench.assert_kept(before)


# --- unreachable hosts -------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused, and nobody else
    can take it while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_api_url_where_nothing_listens_fails_at_once_with_exit_2(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    before = bench.files()
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    url = f"http://127.0.0.1:{closed_port}"
    outcome = bench.fetch(api_url=url)
    outcome.assert_error(2, f"cannot reach the API at {url}")
    bench.assert_kept(before)
    # At once: the very first request is not retried when no connection could be made at all.
    newest = max(open_archive(bench.archive).runs)
    attempts = [
        record
        for log in (bench.archive / "runs").glob(f"{newest}.jsonl")
        for record in map(orjson.loads, log.read_bytes().splitlines())
        if record["type"] == "capture"
    ]
    assert [(r["path"], r["status"]) for r in attempts] == [("/api/me", None)]


def test_an_auth_url_where_nothing_listens_is_exit_2(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    before = bench.files()
    monkeypatch.setenv("PELOTON_USERNAME", bench.sim.member.username)
    monkeypatch.setenv("PELOTON_PASSWORD", bench.sim.member.password)
    outcome = bench.fetch(auth_url=f"http://127.0.0.1:{closed_port}")
    outcome.assert_error(2, f"login failed: cannot reach http://127.0.0.1:{closed_port}")
    bench.assert_kept(before)


# --- Cloudflare's HTML -------------------------------------------------------------------------


def test_cloudflare_html_pages_now_and_then_are_retried_and_the_run_completes(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(10):
        bench.sim.member.add_workout()
    faults = bench.sim.faults
    faults.p_502 = faults.p_503 = 0.15
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    before = bench.files()
    outcome = bench.fetch("--full")
    assert outcome.code == 0 and outcome.err == "", outcome
    assert "0 failed" in outcome.out
    assert bench.sim.counts["502"] and bench.sim.counts["503"]
    bench.assert_kept(before)
    assert bench.pelodump("verify", "--archive", str(bench.archive), "--read-data").code == 0


def test_cloudflare_html_that_persists_lists_what_failed_exit_1_and_a_rerun_completes(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = [bench.sim.member.add_workout() for _ in range(3)]
    original = bench.sim.member.workouts_page

    def then_cloudflare_breaks(*args: Any, **kwargs: Any) -> dict:
        bench.sim.faults.p_502 = 1.0  # everything after this page is Cloudflare's 502 page
        return original(*args, **kwargs)

    bench.sim.member.workouts_page = then_cloudflare_breaks  # type: ignore[method-assign]
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    before = bench.files()
    outcome = bench.fetch()
    assert outcome.code == 1 and outcome.err == "" and "Traceback" not in outcome.out
    failed = [line for line in outcome.out.splitlines() if line.startswith("failed: ")]
    assert {f"failed: workout {w}: HTTP 502 with a body that is not JSON; gave up after 6 "
            "attempts" for w in new} <= set(failed)  # fmt: skip
    bench.assert_kept(before)

    bench.sim.member.workouts_page = original  # type: ignore[method-assign]
    bench.sim.faults.p_502 = 0.0
    assert bench.fetch().code == 0
    archive = open_archive(bench.archive)
    assert all(archive.latest("performance_graph", w) for w in new)


# --- ids that try to escape --------------------------------------------------------------------

HOSTILE_IDS = [
    "../../x",
    "..%2F..%2Fx",
    "a" * 5000,
    "0123456789ABCDEF0123456789ABCDEF",
    12345,
    None,
]
HOSTILE_NAMES = ["traversal", "escaped-traversal", "huge", "not-lowercase-hex", "number", "null"]


def assert_no_request_escaped(sim: Sim, bad: object) -> None:
    for record in sim.log:
        assert ".." not in record.path and "%2" not in record.path.lower(), record
        if isinstance(bad, str):
            assert bad not in record.path + record.query, record


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=HOSTILE_NAMES)
def test_a_hostile_user_id_in_api_me_is_exit_2_and_never_reaches_a_url(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, bad: object
) -> None:
    original = bench.sim.member.me
    bench.sim.member.me = lambda: {**original(), "id": bad}  # type: ignore[method-assign]
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    before, seen = bench.files(), len(bench.sim.log)
    try:
        outcome = bench.fetch()
    finally:
        bench.sim.member.me = original  # type: ignore[method-assign]
    outcome.assert_error(2, "cannot read the member's profile from /api/me: no user id")
    assert [r.path for r in bench.sim.log[seen:]] == ["/api/me"]
    assert_no_request_escaped(bench.sim, bad)
    bench.assert_kept(before)


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=HOSTILE_NAMES)
def test_a_hostile_class_id_is_never_used_and_the_rest_is_archived(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, bad: object
) -> None:
    """Every workout's class claims the hostile id, on the pages and in the details."""
    member = bench.sim.member
    new = [member.add_workout() for _ in range(3)]
    page, detail = member.workouts_page, member.workout

    def hostile(entry: dict) -> dict:
        if isinstance(entry.get("ride"), dict):
            entry = {**entry, "ride": {**entry["ride"], "id": bad}}
        return {**entry, "ride_id": bad} if "ride_id" in entry else entry

    member.workouts_page = lambda *a, **k: {  # type: ignore[method-assign]
        **(body := page(*a, **k)),
        "data": [hostile(entry) for entry in body["data"]],
    }
    member.workout = lambda *a, **k: hostile(detail(*a, **k))  # type: ignore[method-assign]
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    before, seen = bench.files(), len(bench.sim.log)
    try:
        outcome = bench.fetch()
    finally:
        member.workouts_page, member.workout = page, detail  # type: ignore[method-assign]
    assert outcome.code == 0 and outcome.err == "", outcome
    assert not [r for r in bench.sim.log[seen:] if r.path.startswith("/api/ride/")]
    assert_no_request_escaped(bench.sim, bad)
    archive = open_archive(bench.archive)
    assert all(archive.latest("performance_graph", w) for w in new)
    bench.assert_kept(before)


# --- the archive -------------------------------------------------------------------------------


def test_an_archive_of_an_unknown_format_version_is_refused_by_fetch_and_build_untouched(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    format_file = bench.archive / "pelodump-archive.json"
    format_file.write_bytes(
        orjson.dumps({**orjson.loads(format_file.read_bytes()), "version": "2.0"})
    )
    before = bench.files()
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    seen = len(bench.sim.log)
    bench.fetch().assert_error(2, "format version '2.0'")
    out = bench.tmp / "tables"
    build = bench.pelodump("build", "--archive", str(bench.archive), "--out", str(out))
    build.assert_error(2, "format version '2.0'")
    assert bench.files() == before
    assert len(bench.sim.log) == seen  # refused before a single request
    assert not out.exists()


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def test_a_corrupt_blob_fails_verify_and_build_builds_the_rest_with_exit_1(bench: Bench) -> None:
    clean = bench.tmp / "tables" / "clean"
    assert bench.pelodump("build", "--archive", str(bench.archive), "--out", str(clean)).code == 0
    archive = open_archive(bench.archive)
    victim = bench.sim.member.workout_ids()[3]
    blob = archive.latest("workout", victim).blob
    flip_a_byte(archive.blob_path(blob))
    before = bench.files()

    verify = bench.pelodump("verify", "--archive", str(bench.archive), "--read-data")
    assert verify.code == 1 and "Traceback" not in verify.out + verify.err
    assert f"problem: objects/{blob[7:9]}/{blob[9:]}" in verify.out

    damaged = bench.tmp / "tables" / "damaged"
    build = bench.pelodump("build", "--archive", str(bench.archive), "--out", str(damaged))
    assert build.code == 1 and "Traceback" not in build.out + build.err
    assert f"workout {victim}: blob {blob} cannot be read (damaged on disk" in build.err
    # The rest was built exactly as before.
    others = pl.col("workout_id") != victim
    for table in ("workouts", "samples"):
        good = pl.read_parquet(clean / f"{table}.parquet").sort(pl.all())
        got = pl.read_parquet(damaged / f"{table}.parquet").sort(pl.all())
        assert got.filter(others).equals(good.filter(others)), table
    assert bench.files() == before  # reading never writes


def test_fetch_on_an_archive_with_a_damaged_page_copy_still_backs_up_what_is_new(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Fetch reads the pages earlier runs archived (for work they left unfinished): a damaged
    copy is passed over with a warning naming verify, not a traceback, and the run completes."""
    archive = open_archive(bench.archive)
    page = archive.latest("workouts_page", "0")
    # A run that listed page 0 and was killed: the next run reads the page it archived.
    with open_archive(bench.archive).begin_run({"command": "test"}) as run:
        copy = run.save_capture(
            kind="workouts_page", key="0", method="GET", path=page.path, query=page.query,
            status=200, elapsed_ms=1.0, body=archive.read_blob(page.blob) + b" ",
        )  # fmt: skip
        run.end("interrupted")
    flip_a_byte(archive.blob_path(copy.blob))
    new = [bench.sim.member.add_workout() for _ in range(2)]
    monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
    outcome = bench.fetch()
    assert outcome.code == 0 and "Traceback" not in outcome.out + outcome.err, outcome
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "page 0 (damaged on disk" in warning and "pelodump verify" in warning
    assert f"pelodump: warning: {warning}\n" in outcome.err  # shown like errors are
    archive = open_archive(bench.archive)
    assert all(archive.latest("performance_graph", w) for w in new)


def test_a_second_writer_is_refused_naming_the_first_ones_pid(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench.sim.faults.latency_ms = 300.0  # the first writer takes its time
    for _ in range(10):
        bench.sim.member.add_workout()
    env = {**os.environ, "PELOTON_TOKEN": bench.sim.access_token()}
    first = subprocess.Popen(
        [sys.executable, "-m", "pelodump", "fetch", "--archive", str(bench.archive), "--quiet",
         "--api-url", bench.sim.api_url, "--auth-url", bench.sim.auth_url],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        lock = bench.archive / "lock"
        while lock.read_text().strip() != str(first.pid):
            assert first.poll() is None
            time.sleep(0.01)
        monkeypatch.setenv("PELOTON_TOKEN", bench.sim.access_token())
        second = bench.fetch()
        second.assert_error(2, f"in use by another pelodump (pid {first.pid})")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    bench.sim.faults.latency_ms = 0.0
    assert bench.fetch().code == 0  # the kernel freed the killed writer's lock
