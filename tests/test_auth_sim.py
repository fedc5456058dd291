"""The simulated Auth0 refuses what the real one refuses, spoken to by raw HTTP over loopback
(the real client's happy and unhappy paths are in test_login.py)."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from pelodump.auth import code_challenge, exchange_code, fetch_authorization_code
from pelodump.errors import LoginError
from pelodump.sim.auth0 import CLIENT_ID, SimUser, TokenStore, add_auth_routes

USER = SimUser(user_id="ab" * 16, username="rider", password="the password 123")
VERIFIER = "v" * 64
AUTHORIZE = {
    "client_id": CLIENT_ID,
    "audience": "https://api.onepeloton.com/",
    "scope": "offline_access openid peloton-api.members:default",
    "response_type": "code",
    "response_mode": "query",
    "redirect_uri": "https://members.onepeloton.com/callback",
    "state": "client-state",
    "nonce": "client-nonce",
    "code_challenge": code_challenge(VERIFIER),
    "code_challenge_method": "S256",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serve(tokens: TokenStore) -> AsyncIterator[str]:
    app = web.Application()
    add_auth_routes(app, users=[USER], tokens=tokens)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def browser() -> aiohttp.ClientSession:
    """A session that keeps cookies from 127.0.0.1, as a browser would."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.mark.parametrize(
    "change",
    [
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"client_id": "someone-else"},
        {"redirect_uri": "https://evil.example/callback"},
        {"response_type": "token"},
        {"state": None},
    ],
)
def test_authorize_refuses_a_bad_pkce_request(change: dict[str, Any]) -> None:
    query = {k: v for k, v in (AUTHORIZE | change).items() if v is not None}

    async def scenario() -> None:
        async with serve(TokenStore()) as url, browser() as session:
            response = await session.get(f"{url}/authorize", params=query, allow_redirects=False)
            assert response.status == 400
            assert "error" in await response.json()
            assert "_csrf" not in response.cookies

    asyncio.run(scenario())


def test_authorize_sends_to_the_login_page_with_a_new_state_and_a_csrf_cookie() -> None:
    async def scenario() -> None:
        async with serve(TokenStore()) as url, browser() as session:
            async with session.get(
                f"{url}/authorize", params=AUTHORIZE, allow_redirects=False
            ) as response:
                assert response.status == 302
                location = URL(response.headers["Location"])
                csrf = response.cookies["_csrf"]
            assert location.path == "/login"
            assert location.query["state"] not in ("", AUTHORIZE["state"])
            assert csrf["path"] == "/usernamepassword/login" and csrf["httponly"]
            async with session.get(url + str(location)) as page:
                assert page.status == 200 and "<form" in await page.text()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("csrf_in_body", "invalid_csrf"),
        ("no_csrf_cookie", "invalid_csrf"),
        ("the_clients_own_state", "invalid_state"),
    ],
)
def test_credentials_post_checks_the_csrf_cookie_and_the_login_state(
    tamper: str, code: str
) -> None:
    async def scenario() -> None:
        async with serve(TokenStore()) as url, browser() as session:
            async with session.get(
                f"{url}/authorize", params=AUTHORIZE, allow_redirects=False
            ) as response:
                state = URL(response.headers["Location"]).query["state"]
                csrf = response.cookies["_csrf"].value
            body = {
                "client_id": CLIENT_ID,
                "connection": "pelo-user-password",
                "state": AUTHORIZE["state"] if tamper == "the_clients_own_state" else state,
                "_csrf": "forged" if tamper == "csrf_in_body" else csrf,
                "username": USER.username,
                "password": USER.password,
            }
            if tamper == "no_csrf_cookie":
                session.cookie_jar.clear()
            async with session.post(f"{url}/usernamepassword/login", json=body) as response:
                assert response.status == 403
                assert (await response.json())["code"] == code

    asyncio.run(scenario())


def test_resume_needs_the_session_cookie_set_by_the_callback() -> None:
    async def scenario() -> None:
        async with serve(TokenStore()) as url, browser() as session:
            async with session.get(
                f"{url}/authorize", params=AUTHORIZE, allow_redirects=False
            ) as response:
                state = URL(response.headers["Location"]).query["state"]
                csrf = response.cookies["_csrf"].value
            body = {
                "client_id": CLIENT_ID,
                "connection": "pelo-user-password",
                "state": state,
                "_csrf": csrf,
                "username": USER.username,
                "password": USER.password,
            }
            async with session.post(f"{url}/usernamepassword/login", json=body) as response:
                page = await response.text()
            form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
            form = {name: html.unescape(value) for name, value in form.items()}
            async with session.post(
                f"{url}/login/callback", data=form, allow_redirects=False
            ) as response:
                resume = url + response.headers["Location"]
                assert "auth0" in response.cookies
            async with aiohttp.ClientSession() as stranger:  # without the session cookie
                response = await stranger.get(resume, allow_redirects=False)
                assert response.status == 400
            async with session.get(resume, allow_redirects=False) as response:
                assert response.status == 302
                callback = URL(response.headers["Location"])
            assert callback.with_query(None) == URL(AUTHORIZE["redirect_uri"])
            assert callback.query["state"] == AUTHORIZE["state"] and callback.query["code"]

    asyncio.run(scenario())


def test_authorization_code_expires() -> None:
    clock = Clock()

    async def scenario() -> None:
        async with serve(TokenStore(clock=clock)) as url, aiohttp.ClientSession() as session:
            code = await fetch_authorization_code(
                session,
                url,
                USER.username,
                USER.password,
                code_challenge=AUTHORIZE["code_challenge"],
            )
            clock.now += 601
            with pytest.raises(LoginError, match="invalid_grant"):
                await exchange_code(session, url, code, VERIFIER)

    asyncio.run(scenario())


def test_access_token_lifetime_is_configurable_and_expiry_is_checked() -> None:
    clock = Clock()
    tokens = TokenStore(access_lifetime_s=3600, clock=clock)
    answer = tokens.issue_for(USER)
    assert answer["expires_in"] == 3600 and answer["token_type"] == "Bearer"
    assert tokens.validate(answer["access_token"]) == USER.user_id
    clock.now += 3599
    assert tokens.validate(answer["access_token"]) == USER.user_id
    clock.now += 1
    assert tokens.validate(answer["access_token"]) is None
    rotated = tokens.rotate(answer["refresh_token"])  # refresh tokens outlive access tokens
    assert rotated is not None and tokens.validate(rotated["access_token"]) == USER.user_id


def test_expire_all_access_tokens_keeps_refresh_tokens_working() -> None:
    tokens = TokenStore()
    answer = tokens.issue_for(USER)
    tokens.expire_all_access_tokens()
    assert tokens.validate(answer["access_token"]) is None
    rotated = tokens.rotate(answer["refresh_token"])
    assert rotated is not None and tokens.validate(rotated["access_token"]) == USER.user_id


def test_no_refresh_token_without_offline_access() -> None:
    answer = TokenStore().issue_for(USER, scope="openid peloton-api.members:default")
    assert "refresh_token" not in answer and answer["access_token"]


def test_password_is_not_in_the_users_repr() -> None:
    assert USER.password not in repr(USER)
