"""`pelodump sim` as a user runs it: a real process, real ports, a real login."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading

import aiohttp
import pytest

from pelodump.auth import login_with_password
from pelodump.cli import main


def read_banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """The URLs and credentials the server prints, read within 30 s."""
    found: dict[str, str] = {}

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.match(r"\s+(API|login|username|password):\s+(\S+)", line)
            if match:
                found[match[1]] = match[2]
            if "Ctrl-C" in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    return found


def test_pelodump_sim_serves_until_terminated_and_logs_in_for_real() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pelodump", "sim", "--port", "0", "--workouts", "20", "--seed", "3",
         "--latency-ms", "1", "--down", "/api/workout/*"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = read_banner(process)
        assert set(banner) == {"API", "login", "username", "password"}, banner
        assert banner["API"].startswith("http://127.0.0.1:")
        assert banner["login"].startswith("http://127.0.0.1:") and banner["login"] != banner["API"]

        async def fetch_me() -> dict:
            async with aiohttp.ClientSession() as session:
                tokens = await login_with_password(
                    session, banner["login"], banner["username"], banner["password"]
                )
                headers = {"Authorization": f"Bearer {tokens.access_token}"}
                down = banner["API"] + "/api/workout/0123456789abcdef0123456789abcdef"
                async with session.get(down, headers=headers) as response:
                    assert response.status == 503  # --down: answered 503 every time
                async with session.get(banner["API"] + "/api/me", headers=headers) as response:
                    assert response.status == 200
                    return await response.json()

        me = asyncio.run(fetch_me())
        assert re.fullmatch(r"[0-9a-f]{32}", me["id"]) and me["total_workouts"] == 20
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "stopped" in stderr


@pytest.mark.parametrize(
    "flags",
    [
        ["--p-503", "1.5"],
        ["--p-500", "0.6", "--p-reset", "0.6"],
        ["--rate-limit", "0"],
        ["--rate-limit-html"],
        ["--port", "70000"],
        ["--expire-tokens-after", "0"],
        ["--latency-ms", "-5"],
        ["--units", "furlongs"],
    ],
)
def test_bad_flag_values_are_one_line_and_exit_2(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", *flags]) == 2  # checked before anything listens
    stderr = capsys.readouterr().err
    assert stderr.startswith("pelodump: error:") and stderr.count("\n") == 1
