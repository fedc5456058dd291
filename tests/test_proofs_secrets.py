"""Proof that secrets stay secret: after password-login crawls that refresh their tokens, neither
the archive, nor the output, nor any log record holds the password, a token or a login cookie;
only the token cache does, and it is readable by its owner alone."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from pelodump.cli import main
from pelodump.sim import auth0
from pelodump.sim.faults import Faults
from pelodump.sim.member import Member
from pelodump.sim.server import Sim, sim_in_thread


@pytest.fixture
def cookies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every cookie value the simulated login hands out while the test runs."""
    handed_out: list[str] = []
    set_cookie = auth0._set_cookie

    def recording(response: Any, request: Any, name: str, value: str, *, path: str) -> None:
        handed_out.append(value)
        set_cookie(response, request, name, value, path=path)

    monkeypatch.setattr(auth0, "_set_cookie", recording)
    return handed_out


@pytest.fixture
def sim() -> Iterator[Sim]:
    # Access tokens expire every 25 requests: the crawl refreshes, so tokens rotate.
    member = Member(seed=61, workouts=30)
    with sim_in_thread(member=member, faults=Faults(expire_tokens_every=25)) as running:
        yield running


def secrets_of(sim: Sim, cookies: list[str]) -> list[str]:
    """The password, every access and refresh token the simulator issued, every cookie value."""
    tokens = [*sim.tokens._access, *sim.tokens._refresh]  # the simulator's own records of them
    assert len(tokens) >= 4 and sim.tokens.refreshed_count >= 1 and len(cookies) >= 2
    return [sim.member.password, *tokens, *cookies]


def readable_files(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file under root with its bytes, blobs decompressed to the bodies they hold."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.parent.parent.name == "objects":
                data = zstandard.ZstdDecompressor().decompress(data)
            yield path, data


def assert_no_secret_in(secrets: list[str], where: str, text: bytes) -> None:
    for secret in secrets:
        assert secret.encode() not in text, f"a secret in {where}"


def test_a_password_login_crawl_leaves_secrets_only_in_the_0600_token_cache(
    tmp_path: Path, sim: Sim, cookies: list[str]
) -> None:
    archive, config = tmp_path / "archive", tmp_path / "config"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PELOTON_", "PELODUMP_"))}
    env |= {
        "PELOTON_USERNAME": sim.member.username,
        "PELOTON_PASSWORD": sim.member.password,
        "PELODUMP_CONFIG_DIR": str(config),
    }
    outputs = []
    for _ in range(2):  # the second run uses (and refreshes) the cached tokens
        result = subprocess.run(
            [sys.executable, "-m", "pelodump", "fetch", "--archive", str(archive),
             "--api-url", sim.api_url, "--auth-url", sim.auth_url, "--rate", "300", "--full"],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]

    secrets = secrets_of(sim, cookies)
    for number, output in enumerate(outputs):
        assert_no_secret_in(secrets, f"output {number}", output)
    for path, data in readable_files(archive):
        assert_no_secret_in(secrets, str(path), data)
    cache = config / "tokens.json"
    assert [p.name for p in config.iterdir()] == ["tokens.json"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    assert sim.member.password.encode() not in cache.read_bytes()  # tokens only, never it
    # The search finds secrets where they are: the cache holds the latest refresh token.
    assert any(token.encode() in cache.read_bytes() for token in sim.tokens._refresh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "config"]


def test_no_log_record_at_any_level_holds_a_secret(
    tmp_path: Path,
    sim: Sim,
    cookies: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PELOTON_USERNAME", sim.member.username)
    monkeypatch.setenv("PELOTON_PASSWORD", sim.member.password)
    monkeypatch.setenv("PELODUMP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PELOTON_TOKEN", raising=False)
    caplog.set_level(logging.DEBUG)  # every logger: pelodump's, aiohttp's, asyncio's
    args = ["fetch", "--archive", str(tmp_path / "archive"), "--quiet", "--rate", "300"]
    assert main([*args, "--api-url", sim.api_url, "--auth-url", sim.auth_url]) == 0

    secrets = secrets_of(sim, cookies)
    messages = [record.getMessage() for record in caplog.records]
    assert any("logged in" in m for m in messages) and any("refreshed" in m for m in messages)
    for record in caplog.records:
        text = f"{record.getMessage()} {record.exc_text or ''} {record.__dict__}"
        assert_no_secret_in(secrets, f"log record {record.name}", text.encode())
    out, err = capsys.readouterr()
    assert_no_secret_in(secrets, "stdout and stderr", (out + err).encode())
