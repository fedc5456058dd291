"""Logging in against the simulated Auth0 over real loopback HTTP: the PKCE flow, the token cache,
refresh-token rotation, pasted tokens, and failures that are one clear line without a secret."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from pelodump.auth import (
    RefreshRejected,
    TokenCache,
    Tokens,
    TokenSource,
    code_challenge,
    exchange_code,
    fetch_authorization_code,
    login_with_password,
    refresh,
)
from pelodump.errors import LoginError
from pelodump.sim.auth0 import (
    AUTH_SIM,
    AuthSim,
    LoginRateLimit,
    SimUser,
    TokenStore,
    add_auth_routes,
)

PASSWORD = "correct horse battery staple"
USER = SimUser(
    user_id="5c1a9e2f0d7b4c3e8a6f1b2d3c4e5f60", username="rider@example.com", password=PASSWORD
)
OTHER = SimUser(user_id="0" * 31 + "1", username="other", password="other password 123")
NOT_LOGGED_IN = {"status": 401, "error_code": 3020, "subcode": None, "message": "Not logged in"}


@dataclass
class Sim:
    url: str
    tokens: TokenStore
    auth: AuthSim
    secrets: set[str] = field(default_factory=set)  # every cookie, code and token handed out
    hosts: list[str] = field(default_factory=list)  # the Host header of every request

    async def me(self, session: aiohttp.ClientSession, token: str) -> int:
        """The status /api/me answers with this bearer token."""
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{self.url}/api/me", headers=headers) as response:
            return response.status


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve_auth(**options: Any) -> AsyncIterator[Sim]:
    """The simulated Auth0 and a tiny /api/me that checks the token."""
    tokens = TokenStore()
    app = web.Application(middlewares=[_record])
    add_auth_routes(app, users=[USER, OTHER], tokens=tokens, **options)

    async def api_me(request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user_id = tokens.validate(bearer)
        if user_id is None:
            return web.json_response(NOT_LOGGED_IN, status=401)
        return web.json_response({"id": user_id})

    app.router.add_get("/api/me", api_me)
    sim = Sim(url="", tokens=tokens, auth=app[AUTH_SIM])
    app[SIM] = sim
    async with serve_app(app) as url:
        sim.url = url
        yield sim


SIM = web.AppKey("sim", Sim)


@web.middleware
async def _record(request: web.Request, handler: Callable[..., Awaitable[Any]]) -> Any:
    """Note every secret the server hands out, so tests can look for them where they must not be."""
    sim = request.app[SIM]
    sim.hosts.append(request.host)
    response = await handler(request)
    sim.secrets.update(morsel.value for morsel in response.cookies.values())
    if code := URL(response.headers.get("Location", "")).query.get("code"):
        sim.secrets.add(code)
    if isinstance(response, web.Response) and response.body:
        text = response.text or ""
        sim.secrets.update(re.findall(r'name="wresult" value="([^"]+)"', text))
        if request.path == "/oauth/token" and response.status == 200:
            body = json.loads(text)
            sim.secrets.update(body[k] for k in ("access_token", "refresh_token", "id_token"))
    return response


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials from the real environment, and no way to touch the real config dir."""
    for name in ("PELOTON_TOKEN", "PELOTON_USERNAME", "PELOTON_PASSWORD", "PELODUMP_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def password_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PELOTON_USERNAME", USER.username)
    monkeypatch.setenv("PELOTON_PASSWORD", PASSWORD)


async def token_source(
    session: aiohttp.ClientSession, sim: Sim, cache_dir: Path, **kwargs: Any
) -> TokenSource:
    return await TokenSource.from_environment(
        session, auth_url=sim.url, token_file=None, cache_dir=cache_dir, prompt=False, **kwargs
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- password login and the cache --------------------------------------------------------------


@pytest.mark.usefixtures("password_login")
def test_password_login_works_and_the_cache_is_private_and_reused(tmp_path: Path) -> None:
    cache_dir = tmp_path / "config" / "pelodump"

    async def scenario() -> str:
        async with serve_auth() as sim:
            async with aiohttp.ClientSession() as session:
                token = await (await token_source(session, sim, cache_dir)).access_token()
                assert await sim.me(session, token) == 200
            async with aiohttp.ClientSession() as session:  # the next run
                again = await (await token_source(session, sim, cache_dir)).access_token()
                assert again == token
                assert await sim.me(session, again) == 200
            assert (sim.auth.login_posts, sim.tokens.issued_count) == (1, 1)
            assert sim.tokens.refreshed_count == 0
            return token

    token = asyncio.run(scenario())
    cache = cache_dir / "tokens.json"
    assert mode(cache) == 0o600
    assert mode(cache_dir) == 0o700
    assert token in cache.read_text()
    assert PASSWORD not in cache.read_text()
    assert [p.name for p in cache_dir.iterdir()] == ["tokens.json"]  # no temporary file left


@pytest.mark.usefixtures("password_login")
def test_a_cache_that_cannot_be_written_warns_and_keeps_the_login(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("")
    cache_dir = tmp_path / "a-file" / "pelodump"  # mkdir fails, as in a read-only directory

    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            token = await (await token_source(session, sim, cache_dir)).access_token()
            assert await sim.me(session, token) == 200

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert f"could not save the tokens to {cache_dir / 'tokens.json'}" in caplog.text


@pytest.mark.usefixtures("password_login")
@pytest.mark.parametrize(
    "entry",
    [
        {"access_token": "x", "refresh_token": "y", "expires_at": "abc"},
        {"access_token": "x", "refresh_token": "y", "expires_at": 1e12, "obtained_at": None},
        {"access_token": None, "refresh_token": "y", "expires_at": 1e12},
        {"access_token": "x", "refresh_token": 5, "expires_at": 1e12},
        ["not", "an", "entry"],
    ],
    ids=str,
)
def test_a_cache_entry_of_the_wrong_types_is_ignored_and_the_password_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, entry: object
) -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            key = TokenCache.key(sim.url, USER.username)
            cache = tmp_path / "tokens.json"
            cache.write_text(json.dumps({"version": 1, "tokens": {key: entry}}))
            cache.chmod(0o600)
            token = await (await token_source(session, sim, tmp_path)).access_token()
            assert await sim.me(session, token) == 200
            assert sim.auth.login_posts == 1

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert "ignoring an unreadable entry" in caplog.text


@pytest.mark.usefixtures("password_login")
@pytest.mark.parametrize("owner", ["the user", "another user"])
def test_a_cache_readable_by_others_is_made_private_if_it_can_be_and_used_either_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, owner: str
) -> None:
    if owner == "another user" and os.getuid() != 0:
        pytest.skip("needs to give a file away to another user")
    cache = tmp_path / "tokens.json"

    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            await token_source(session, sim, tmp_path)
            cache.chmod(0o644)  # copied from another machine, say
            if owner == "another user":
                os.chown(cache, 65534, -1)  # the tests run as root
            await token_source(session, sim, tmp_path)
            assert sim.auth.login_posts == 1  # the cache was used, not thrown away

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    if owner == "the user":
        assert mode(cache) == 0o600
        assert "was readable by others: it is now readable by you alone" in caplog.text
    else:
        assert mode(cache) == 0o644
        assert "could not be made private (owned by another user)" in caplog.text


def test_a_prompt_off_the_main_thread_asks_without_touching_signals() -> None:
    from pelodump.auth import _prompted

    answers: list[str] = []
    asker = threading.Thread(target=lambda: answers.append(_prompted(lambda p: p + "!", "q")))
    asker.start()
    asker.join()
    assert answers == ["q!"]


@pytest.mark.usefixtures("password_login")
def test_cached_tokens_near_expiry_are_refreshed_and_the_rotated_token_is_saved(
    tmp_path: Path,
) -> None:
    five_minutes_before_expiry = lambda: time.time() + 172_800 - 300  # noqa: E731

    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            first = await (await token_source(session, sim, tmp_path)).access_token()
            later = await token_source(session, sim, tmp_path, clock=five_minutes_before_expiry)
            second = await later.access_token()
            assert second != first
            assert await sim.me(session, second) == 200
            assert sim.tokens.refreshed_count == 1
            cached = TokenCache(tmp_path).load(TokenCache.key(sim.url, USER.username))
            assert cached is not None and cached.access_token == second
            # the rotated refresh token was saved: yet another run finds fresh tokens
            third = await token_source(session, sim, tmp_path, clock=five_minutes_before_expiry)
            assert await third.access_token() == second
            assert (sim.tokens.refreshed_count, sim.auth.login_posts) == (1, 1)

    asyncio.run(scenario())


@pytest.mark.usefixtures("password_login")
def test_a_refused_cached_refresh_token_falls_back_to_the_password(tmp_path: Path) -> None:
    five_minutes_before_expiry = lambda: time.time() + 172_800 - 300  # noqa: E731

    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            await token_source(session, sim, tmp_path)
            cached = TokenCache(tmp_path).load(TokenCache.key(sim.url, USER.username))
            assert cached is not None
            await refresh(session, sim.url, cached)  # another program spent it
            later = await token_source(session, sim, tmp_path, clock=five_minutes_before_expiry)
            assert await sim.me(session, await later.access_token()) == 200
            assert sim.auth.login_posts == 2

    asyncio.run(scenario())


def test_cache_keeps_accounts_and_auth_hosts_apart(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    a = Tokens("access-a", "refresh-a", expires_at=2e9, obtained_at=1e9)
    b = Tokens("access-b", "refresh-b", expires_at=2e9, obtained_at=1e9)
    cache.save(TokenCache.key("https://auth.onepeloton.com", "Rider@Example.com"), a)
    cache.save(TokenCache.key("http://127.0.0.1:8080", "rider@example.com"), b)
    assert cache.load(TokenCache.key("https://auth.onepeloton.com:443", "rider@example.com")) == a
    assert cache.load(TokenCache.key("http://127.0.0.1:8080", "rider@example.com")) == b
    assert cache.load(TokenCache.key("http://127.0.0.1:8080", "someone else")) is None


# --- what the server refuses -------------------------------------------------------------------


def test_wrong_password_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "not the password at all"
    monkeypatch.setenv("PELOTON_USERNAME", USER.username)
    monkeypatch.setenv("PELOTON_PASSWORD", wrong)

    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            with pytest.raises(LoginError) as caught:
                await token_source(session, sim, tmp_path)
            assert str(caught.value) == "login failed: wrong username or password"
            assert (sim.auth.login_posts, sim.tokens.issued_count) == (1, 0)

    asyncio.run(scenario())
    assert not (tmp_path / "tokens.json").exists()


def test_wrong_pkce_verifier_is_refused() -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            verifier = "v" * 64
            code = await fetch_authorization_code(
                session, sim.url, USER.username, PASSWORD, code_challenge=code_challenge(verifier)
            )
            with pytest.raises(LoginError, match=r"HTTP 403 invalid_grant"):
                await exchange_code(session, sim.url, code, "w" * 64)
            assert sim.tokens.issued_count == 0

    asyncio.run(scenario())


def test_authorization_code_is_single_use() -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            verifier = "v" * 64
            code = await fetch_authorization_code(
                session, sim.url, USER.username, PASSWORD, code_challenge=code_challenge(verifier)
            )
            tokens = await exchange_code(session, sim.url, code, verifier)
            assert await sim.me(session, tokens.access_token) == 200
            with pytest.raises(LoginError, match=r"HTTP 403 invalid_grant"):
                await exchange_code(session, sim.url, code, verifier)
            assert sim.tokens.issued_count == 1

    asyncio.run(scenario())


def test_reused_refresh_token_revokes_the_whole_family() -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            bystander = await login_with_password(session, sim.url, OTHER.username, OTHER.password)
            first = await login_with_password(session, sim.url, USER.username, PASSWORD)
            second = await refresh(session, sim.url, first)
            assert second.refresh_token != first.refresh_token
            assert await sim.me(session, second.access_token) == 200
            with pytest.raises(RefreshRejected):
                await refresh(session, sim.url, first)  # a replay of the spent refresh token
            assert await sim.me(session, second.access_token) == 401
            assert await sim.me(session, first.access_token) == 401
            with pytest.raises(RefreshRejected):
                await refresh(session, sim.url, second)
            assert await sim.me(session, bystander.access_token) == 200  # another family

    asyncio.run(scenario())


@pytest.mark.usefixtures("password_login")
def test_twenty_workers_rejected_at_once_cause_one_refresh(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            source = await token_source(session, sim, tmp_path)
            rejected = await source.access_token()
            sim.tokens.expire_all_access_tokens()
            assert await sim.me(session, rejected) == 401
            fresh = await asyncio.gather(
                *(source.refresh_after_rejection(rejected) for _ in range(20))
            )
            assert len(set(fresh)) == 1 and fresh[0] != rejected
            assert sim.tokens.refreshed_count == 1
            assert await sim.me(session, fresh[0]) == 200
            assert await source.access_token() == fresh[0]
            cached = TokenCache(tmp_path).load(TokenCache.key(sim.url, USER.username))
            assert cached is not None and cached.access_token == fresh[0]

    asyncio.run(scenario())


@pytest.mark.usefixtures("password_login")
def test_two_programs_on_one_account_do_not_replay_each_others_refresh_token(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            one = await token_source(session, sim, tmp_path)
            other = await token_source(session, sim, tmp_path)  # e.g. a second archive
            rejected = await one.access_token()
            assert await other.access_token() == rejected
            sim.tokens.expire_all_access_tokens()
            fresh = await one.refresh_after_rejection(rejected)
            assert await other.refresh_after_rejection(rejected) == fresh
            assert sim.tokens.refreshed_count == 1
            assert await sim.me(session, fresh) == 200  # the family was not revoked

    asyncio.run(scenario())


@pytest.mark.usefixtures("password_login")
def test_a_refused_refresh_is_one_line_login_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            source = await token_source(session, sim, tmp_path)
            rejected = await source.access_token()
            cached = TokenCache(tmp_path).load(TokenCache.key(sim.url, USER.username))
            assert cached is not None
            await refresh(session, sim.url, cached)  # someone else spends the refresh token
            with pytest.raises(LoginError) as caught:
                await source.refresh_after_rejection(rejected)
            assert str(caught.value) == (
                "login failed: the access token expired and could not be refreshed; log in again"
            )

    asyncio.run(scenario())


# --- pasted tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["env", "file"])
def test_pasted_token_is_used_as_is(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PELOTON_USERNAME", USER.username)  # a pasted token comes first
    monkeypatch.setenv("PELOTON_PASSWORD", PASSWORD)

    async def scenario() -> None:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            token = sim.tokens.issue_for(USER)["access_token"]
            token_file = None
            if where == "env":
                monkeypatch.setenv("PELOTON_TOKEN", f"  Bearer {token}\n")
            else:
                token_file = tmp_path / "token.txt"
                token_file.write_text(f"bearer  {token}\n\n")
            source = await TokenSource.from_environment(
                session, auth_url=sim.url, token_file=token_file, cache_dir=tmp_path, prompt=False
            )
            assert await source.access_token() == token
            assert await sim.me(session, token) == 200
            sim.tokens.expire_all_access_tokens()
            with pytest.raises(LoginError) as caught:
                await source.refresh_after_rejection(token)
            assert str(caught.value).startswith(
                "login failed: the pasted access token was rejected"
            )
            assert sim.auth.login_posts == 0
            assert len(sim.hosts) == 1  # the /api/me above: nothing went to the login

    asyncio.run(scenario())


def test_unreadable_token_file_is_a_login_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(LoginError, match=r"cannot read the token file .*missing.txt"):
                await TokenSource.from_environment(
                    session, auth_url="http://127.0.0.1:9", token_file=tmp_path / "missing.txt"
                )
            # Read only so far: a huge file (/dev/zero, say) is no token, and no reason to run
            # out of memory.
            huge = tmp_path / "huge.txt"
            with huge.open("wb") as file:
                file.truncate(2 << 20)
            with pytest.raises(LoginError, match=r"huge\.txt: far too large to be a token"):
                await TokenSource.from_environment(
                    session, auth_url="http://127.0.0.1:9", token_file=huge
                )

    asyncio.run(scenario())


PROMPTED_LOGIN = """
import asyncio, sys
from pathlib import Path
import aiohttp
from pelodump.auth import TokenSource

async def main() -> None:
    async with aiohttp.ClientSession() as session:
        source = await TokenSource.from_environment(
            session, auth_url=sys.argv[1], token_file=None, cache_dir=Path(sys.argv[2])
        )
        print("got a token of", len(await source.access_token()), "characters")

asyncio.run(main())
"""


async def read_until(master: int, marker: bytes, seen: bytearray) -> None:
    """Read a terminal's output into `seen` until `marker` shows (or the child closes it)."""
    loop = asyncio.get_running_loop()
    while marker not in seen:
        readable = asyncio.Event()
        loop.add_reader(master, readable.set)
        try:
            await asyncio.wait_for(readable.wait(), 30)  # a safety net, not a measurement
        finally:
            loop.remove_reader(master)
        try:
            seen += os.read(master, 4096)
        except OSError:  # EIO: the child has closed the terminal
            return


def test_on_a_terminal_it_asks_and_the_password_is_not_echoed(tmp_path: Path) -> None:
    async def scenario() -> bytes:
        async with serve_auth() as sim:
            master, terminal = os.openpty()
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", PROMPTED_LOGIN, sim.url, str(tmp_path),
                stdin=terminal, stdout=terminal, stderr=terminal,
            )  # fmt: skip
            os.close(terminal)
            seen = bytearray()
            try:
                await read_until(master, b"username or email: ", seen)
                os.write(master, USER.username.encode() + b"\n")
                await read_until(master, b"password: ", seen)
                os.write(master, PASSWORD.encode() + b"\n")
                await read_until(master, b"characters", seen)
                assert await child.wait() == 0, seen.decode(errors="replace")
            finally:
                os.close(master)
            assert sim.auth.logins == 1
            return bytes(seen)

    seen = asyncio.run(scenario())
    assert USER.username.encode() in seen  # the terminal echoes what is typed...
    assert PASSWORD.encode() not in seen  # ...but not the password
    assert mode(tmp_path / "tokens.json") == 0o600


@pytest.mark.parametrize("answer", ["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_ctrl_d_at_the_password_prompt_ends_the_fetch_at_once(
    tmp_path: Path, answer: str
) -> None:
    async def scenario() -> tuple[int, str]:
        async with serve_auth() as sim:
            master, terminal = os.openpty()
            environ = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
            environ |= {"PELOTON_USERNAME": USER.username, "PELODUMP_CONFIG_DIR": str(tmp_path)}
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pelodump", "fetch", "--archive", str(tmp_path / "a"),
                "--auth-url", sim.url, "--api-url", sim.url,
                stdin=terminal, stdout=terminal, stderr=terminal, env=environ,
            )  # fmt: skip
            os.close(terminal)
            seen = bytearray()
            try:
                await read_until(master, b"password: ", seen)
                if answer == "ctrl-c":
                    child.send_signal(signal.SIGINT)  # what the terminal sends for Ctrl-C
                else:
                    os.write(master, b"\x04")  # Ctrl-D: the end of the input
                code = await asyncio.wait_for(child.wait(), 30)
                await read_until(master, b"\n(never shown)", seen)  # the rest, to its end
            finally:
                os.close(master)
                if child.returncode is None:  # it hung: leave no process behind
                    child.kill()
                    await child.wait()
            return code, seen.decode(errors="replace")

    code, seen = asyncio.run(scenario())
    after_prompt = seen.split("password: ", 1)[1].strip()
    if answer == "ctrl-c":
        assert code == 130, seen
        assert after_prompt.startswith("pelodump: interrupted"), seen
        assert after_prompt.count("\n") == 0
    else:
        assert code == 2, seen
        assert after_prompt.startswith("pelodump: error: no password"), seen
        assert "Traceback" not in seen


def test_no_credentials_says_what_to_set() -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(LoginError) as caught:
                await TokenSource.from_environment(
                    session, auth_url="http://127.0.0.1:9", token_file=None, prompt=False
                )
            assert str(caught.value) == (
                "no credentials: set PELOTON_USERNAME and PELOTON_PASSWORD, PELOTON_TOKEN, "
                "or --token-file"
            )

    asyncio.run(scenario())


# --- failures on the way -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloudflare_html", "expected"),
    [(False, "try again in 2 minutes"), (True, "try again in 15 minutes")],
)
def test_rate_limited_login_says_when_to_try_again(cloudflare_html: bool, expected: str) -> None:
    limit = LoginRateLimit(max_logins=0, window_s=120, cloudflare_html=cloudflare_html)

    async def scenario() -> None:
        async with serve_auth(login_limit=limit) as sim, aiohttp.ClientSession() as session:
            with pytest.raises(LoginError) as caught:
                await login_with_password(session, sim.url, USER.username, PASSWORD)
            assert str(caught.value) == f"login failed: rate limited by Peloton, {expected}"

    asyncio.run(scenario())


def test_unreachable_auth_host_is_one_line() -> None:
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(LoginError) as caught:
                await login_with_password(session, f"http://127.0.0.1:{port}", "u", PASSWORD)
            message = str(caught.value)
            assert message.startswith(f"login failed: cannot reach http://127.0.0.1:{port} (")
            assert "\n" not in message

    asyncio.run(scenario())


def test_a_redirect_to_another_host_is_not_followed() -> None:
    hosts: list[str] = []

    async def authorize(request: web.Request) -> web.Response:
        hosts.append(request.host)
        elsewhere = f"http://localhost:{request.url.port}/login?state=x"
        return web.Response(status=302, headers={"Location": elsewhere})

    async def login_page(request: web.Request) -> web.Response:
        hosts.append(request.host)
        return web.Response(text="<html></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/authorize", authorize)
    app.router.add_get("/login", login_page)

    async def scenario() -> None:
        async with serve_app(app) as url, aiohttp.ClientSession() as session:
            with pytest.raises(LoginError) as caught:
                await login_with_password(session, url, USER.username, PASSWORD)
            assert hosts == [url.removeprefix("http://")]  # /authorize, and nothing at localhost
            assert str(caught.value) == (
                "login failed: unexpected answer from the login page (it points to another host)"
            )

    asyncio.run(scenario())


# --- secrets stay secret -----------------------------------------------------------------------


@pytest.mark.usefixtures("password_login")
def test_no_secret_in_logs_errors_or_reprs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []  # every message and repr a user could see

    async def scenario() -> set[str]:
        async with serve_auth() as sim, aiohttp.ClientSession() as session:
            source = await token_source(session, sim, tmp_path)
            rejected = await source.access_token()
            sim.tokens.expire_all_access_tokens()
            await source.refresh_after_rejection(rejected)
            tokens = await login_with_password(session, sim.url, USER.username, PASSWORD)
            shown.append(repr(tokens))
            shown.append(str(tokens))
            await refresh(session, sim.url, tokens)
            cached = TokenCache(tmp_path).load(TokenCache.key(sim.url, USER.username))
            assert cached is not None
            await refresh(session, sim.url, cached)  # spends the source's refresh token
            current = await source.access_token()
            failures = [
                lambda: refresh(session, sim.url, tokens),  # a replay
                lambda: login_with_password(session, sim.url, USER.username, PASSWORD + "!"),
                lambda: source.refresh_after_rejection(current),
            ]
            for attempt in failures:
                with pytest.raises(LoginError) as caught:
                    await attempt()
                shown.append(str(caught.value))
            return sim.secrets

    secrets = asyncio.run(scenario()) | {PASSWORD}
    assert len(secrets) > 10  # cookies, codes, wresults, tokens: the recording works
    assert "logged in" in caplog.text and "refreshed the access token" in caplog.text
    assert "POST /oauth/token" in caplog.text  # the server's access log is captured too
    for secret in secrets:
        assert secret not in caplog.text
        for text in shown:
            assert secret not in text
