"""Logging in to Peloton and keeping the access token fresh.

Peloton logs in through Auth0's authorization-code flow with PKCE, driven here the way the web site
drives it (shared/peloton-api.md, "Logging in"): /authorize, the credentials post, the hidden form,
the redirects, and the code exchange. Every request goes to the auth URL's origin only; a redirect
anywhere else stops the login. The redirect_uri itself is never loaded: the code is read from the
Location header that points at it.

Tokens are cached per auth host and username in a 0600 file, refreshed shortly before they expire or
when the API rejects them, and the rotated refresh token is saved before the new access token is
used. Secrets (password, tokens, code, cookies) never reach a message, a log line or a repr.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import getpass
import hashlib
import json
import logging
import math
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from pelodump.errors import LoginError

CLIENT_ID = "WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM"
AUDIENCE = "https://api.onepeloton.com/"
SCOPE = "offline_access openid peloton-api.members:default"
REDIRECT_URI = "https://members.onepeloton.com/callback"
AUTH0_CLIENT = "eyJuYW1lIjoiYXV0aDAuanMtdWxwIiwidmVyc2lvbiI6IjkuMTQuMyJ9"
TENANT = "peloton-prod"
CONNECTION = "pelo-user-password"

REFRESH_MARGIN_S = 600.0  # refresh a cached access token that expires sooner than this
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
MAX_REDIRECTS = 10
# Cloudflare's error 1015 page says nothing about how long the block lasts; public reports speak
# of minutes, so suggest a wait that is likely long enough rather than none.
UNKNOWN_RATE_LIMIT_WAIT_S = 15 * 60.0
NO_CREDENTIALS = (
    "no credentials: set PELOTON_USERNAME and PELOTON_PASSWORD, PELOTON_TOKEN, or --token-file"
)
REFRESH_FAILED = "login failed: the access token expired and could not be refreshed; log in again"
PASTED_TOKEN_REJECTED = (
    "login failed: the pasted access token was rejected (expired?); "
    "copy a fresh one or log in with PELOTON_USERNAME and PELOTON_PASSWORD"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

log = logging.getLogger(__name__)


class RefreshRejected(LoginError):
    """Auth0 refused the refresh token (rotated, revoked or unknown): only a new login helps."""


@dataclass(frozen=True)
class Tokens:
    """An access token and what is needed to renew it; its repr shows no secret."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)  # None for a token pasted from a browser
    expires_at: float  # unix time; infinity when unknown (a pasted token)
    token_type: str = "Bearer"
    obtained_at: float = 0.0  # unix time; with expires_at gives the lifetime

    def needs_refresh(self, now: float) -> bool:
        """True when a refresh token exists and the access token expires within the margin.

        The margin shrinks for short-lived tokens (as the simulator can issue), so a fresh token
        is never refreshed again at once.
        """
        if self.refresh_token is None:
            return False
        margin = min(REFRESH_MARGIN_S, (self.expires_at - self.obtained_at) / 4)
        return self.expires_at - now < margin


# --- the login flow ----------------------------------------------------------------------------


async def login_with_password(
    session: aiohttp.ClientSession,
    auth_url: str,
    username: str,
    password: str,
    *,
    clock: Callable[[], float] = time.time,
) -> Tokens:
    """Log in with a username (or email) and password through the full PKCE flow."""
    verifier = secrets.token_urlsafe(48)
    code = await fetch_authorization_code(
        session, auth_url, username, password, code_challenge=code_challenge(verifier)
    )
    tokens = await exchange_code(session, auth_url, code, verifier, clock=clock)
    log.info("logged in to %s", _origin(auth_url))
    return tokens


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url of the verifier's SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def fetch_authorization_code(
    session: aiohttp.ClientSession,
    auth_url: str,
    username: str,
    password: str,
    *,
    code_challenge: str,
) -> str:
    """Steps 1-3 of the flow: /authorize, the credentials, the hidden form, the redirects."""
    auth = _AuthHost(session, auth_url)
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    authorize = auth.url("/authorize").with_query(
        client_id=CLIENT_ID,
        audience=AUDIENCE,
        scope=SCOPE,
        response_type="code",
        response_mode="query",
        redirect_uri=REDIRECT_URI,
        state=state,
        nonce=nonce,
        code_challenge=code_challenge,
        code_challenge_method="S256",
        auth0Client=AUTH0_CLIENT,
    )
    page = await auth.follow(await auth.send("GET", authorize))
    if page.status != 200:
        raise _unexpected(f"HTTP {page.status} from {page.url.path}")
    csrf = auth.cookie("_csrf", auth.url("/usernamepassword/login"))
    if csrf is None:
        raise _unexpected("no _csrf cookie")
    credentials = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "tenant": TENANT,
        "response_type": "code",
        "scope": SCOPE,
        "audience": AUDIENCE,
        "_csrf": csrf,
        "state": page.url.query.get("state", state),  # the login page may carry its own
        "_intstate": "deprecated",
        "nonce": nonce,
        "username": username,
        "password": password,
        "connection": CONNECTION,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    headers = {"Auth0-Client": AUTH0_CLIENT, "Origin": str(auth.base), "Referer": str(page.url)}
    answer = await auth.send(
        "POST", auth.url("/usernamepassword/login"), json=credentials, headers=headers
    )
    if answer.status >= 400:
        raise _credentials_refused(answer)
    if answer.status == 200:  # the hidden form, which a browser's script submits at once
        action, inputs = _hidden_form(answer)
        answer = await auth.send("POST", action, data=inputs)
    return _code_from(await auth.follow(answer, stop_at=URL(REDIRECT_URI)), state)


async def exchange_code(
    session: aiohttp.ClientSession,
    auth_url: str,
    code: str,
    verifier: str,
    *,
    clock: Callable[[], float] = time.time,
) -> Tokens:
    """Step 4: the authorization code and the PKCE verifier for tokens."""
    auth = _AuthHost(session, auth_url)
    body = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    answer = await auth.send("POST", auth.url("/oauth/token"), json=body)
    if answer.status != 200:
        raise _unexpected(f"HTTP {answer.status} {_error_code(answer)} from the token endpoint")
    return _tokens_from(answer, clock(), previous_refresh_token=None)


async def refresh(
    session: aiohttp.ClientSession,
    auth_url: str,
    tokens: Tokens,
    *,
    clock: Callable[[], float] = time.time,
) -> Tokens:
    """New tokens for old through the refresh-token grant; the old refresh token is then spent."""
    if tokens.refresh_token is None:
        raise RefreshRejected(PASTED_TOKEN_REJECTED)
    auth = _AuthHost(session, auth_url)
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "refresh_token": tokens.refresh_token,
    }
    answer = await auth.send("POST", auth.url("/oauth/token"), data=form)
    if answer.status in (400, 401, 403) and _error_code(answer) == "invalid_grant":
        raise RefreshRejected(REFRESH_FAILED)
    if answer.status != 200:
        raise _unexpected(f"HTTP {answer.status} {_error_code(answer)} from the token endpoint")
    return _tokens_from(answer, clock(), previous_refresh_token=tokens.refresh_token)


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: URL

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _AuthHost:
    """Requests to one auth origin, with the flow's own cookie jar and no automatic redirects.

    The private jar keeps the login's cookies (`_csrf`, the Auth0 session) to this one flow and
    honours their paths; it accepts cookies from an IP address so the simulator works too.
    """

    def __init__(self, session: aiohttp.ClientSession, auth_url: str) -> None:
        self.session = session
        self.origin = _origin(auth_url)  # with its port, for comparisons and messages
        self.base = URL(auth_url).origin()
        self.jar = aiohttp.CookieJar(unsafe=True)

    def url(self, path: str) -> URL:
        return self.base.with_path(path)

    def cookie(self, name: str, url: URL) -> str | None:
        morsel = self.jar.filter_cookies(url).get(name)
        return None if morsel is None else morsel.value

    async def send(self, method: str, url: URL, **kwargs: Any) -> _Answer:
        if _origin(url) != self.origin:
            raise _unexpected("it points to another host")
        try:
            async with self.session.request(
                method,
                url,
                allow_redirects=False,
                raise_for_status=False,
                cookies=self.jar.filter_cookies(url),
                timeout=REQUEST_TIMEOUT,
                **kwargs,
            ) as response:
                body = await response.read()
                self.jar.update_cookies(response.cookies, response.url)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise LoginError(
                f"login failed: cannot reach {self.origin} ({_describe(exc)})"
            ) from exc
        answer = _Answer(response.status, response.headers, body, url)
        wait_s = _rate_limit_wait_s(answer)
        if wait_s is not None:
            minutes = max(1, math.ceil(wait_s / 60))
            unit = "minute" if minutes == 1 else "minutes"
            raise LoginError(
                f"login failed: rate limited by Peloton, try again in {minutes} {unit}"
            )
        return answer

    async def follow(self, answer: _Answer, *, stop_at: URL | None = None) -> _Answer:
        """Follow redirects on this host until an answer that is not one.

        With `stop_at`, a redirect to that URL (query aside) is not loaded: the answer pointing at
        it is returned, for its Location.
        """
        for _ in range(MAX_REDIRECTS):
            if answer.status not in _REDIRECTS:
                return answer
            location = _location(answer)
            if stop_at is not None and location.with_query(None).with_fragment(None) == stop_at:
                return answer
            answer = await self.send("GET", location)
        raise _unexpected("too many redirects")


def _origin(url: str | URL) -> str:
    """scheme://host:port, with the port always spelled out."""
    url = URL(url)
    return f"{url.scheme}://{url.host}:{url.port}"


def _location(answer: _Answer) -> URL:
    location = answer.headers.get("Location")
    if not location:
        raise _unexpected(f"HTTP {answer.status} without a Location")
    return answer.url.join(URL(location))


def _code_from(answer: _Answer, state: str) -> str:
    if answer.status not in _REDIRECTS:
        raise _unexpected(f"HTTP {answer.status} instead of the redirect to the callback")
    query = _location(answer).query
    if "error" in query:
        raise LoginError(f"login failed: Peloton refused the login ({_printable(query['error'])})")
    if query.get("state") != state:
        raise _unexpected("the callback's state is not ours")
    code = query.get("code")
    if not code:
        raise _unexpected("no code in the callback")
    return code


class _FormParser(HTMLParser):
    """Collects each <form>'s attributes and its named <input>s' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, str], dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values, {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value", "")


def _hidden_form(answer: _Answer) -> tuple[URL, dict[str, str]]:
    """The action and inputs of the page's form: name="hiddenform", or else its only form."""
    parser = _FormParser()
    parser.feed(answer.body.decode("utf-8", "replace"))
    forms = [f for f in parser.forms if f[0].get("name") == "hiddenform"] or parser.forms
    if len(forms) != 1:
        raise _unexpected(f"{len(parser.forms)} forms on the page after the credentials")
    attrs, inputs = forms[0]
    if "wresult" not in inputs or attrs.get("method", "get").lower() != "post":
        raise _unexpected("the page after the credentials holds no sign-in form")
    return answer.url.join(URL(attrs.get("action", ""))), inputs


def _tokens_from(answer: _Answer, now: float, *, previous_refresh_token: str | None) -> Tokens:
    body = answer.json()
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("access_token"), str)
        or not isinstance(body.get("expires_in"), int | float)
    ):
        raise _unexpected("the token endpoint's answer holds no access token")
    return Tokens(
        access_token=body["access_token"],
        # without rotation Auth0 sends no new refresh token: the old one stays valid
        refresh_token=body.get("refresh_token") or previous_refresh_token,
        expires_at=now + float(body["expires_in"]),
        token_type=str(body.get("token_type", "Bearer")),
        obtained_at=now,
    )


def _credentials_refused(answer: _Answer) -> LoginError:
    code = _error_code(answer)
    if code == "invalid_user_password":
        return LoginError("login failed: wrong username or password")
    if code in ("too_many_attempts", "blocked_user"):
        return LoginError(
            "login failed: Peloton blocked the account after too many attempts; "
            "see Peloton's email or reset the password"
        )
    return _unexpected(f"HTTP {answer.status} {code}")


def _rate_limit_wait_s(answer: _Answer) -> float | None:
    """Seconds to wait if the answer says "rate limited" (a 429, or Cloudflare's 1015 page)."""
    cloudflare_1015 = b"1015" in answer.body and b"rate limited" in answer.body.lower()
    if answer.status != 429 and not (answer.status >= 400 and cloudflare_1015):
        return None
    retry_after = answer.headers.get("Retry-After", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
    return UNKNOWN_RATE_LIMIT_WAIT_S


def _error_code(answer: _Answer) -> str:
    """Auth0's error code from a JSON error body (`code` or `error`), or "-"."""
    body = answer.json()
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        if isinstance(code, str):
            return _printable(code)
    return "-"


def _printable(text: str) -> str:
    """Server-chosen text made safe for a one-line message: short, no control characters."""
    return "".join(c for c in text if c.isprintable())[:60]


def _describe(exc: BaseException) -> str:
    # Only the error class and the OS reason: some aiohttp errors print the full URL.
    os_error = getattr(exc, "os_error", None)
    reason = getattr(os_error, "strerror", None) or (
        exc.strerror if isinstance(exc, OSError) else None
    )
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__


def _unexpected(what: str) -> LoginError:
    return LoginError(f"login failed: unexpected answer from the login page ({what})")


# --- the token cache ---------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """$PELODUMP_CONFIG_DIR, else $XDG_CONFIG_HOME/pelodump, else ~/.config/pelodump."""
    if override := os.environ.get("PELODUMP_CONFIG_DIR"):
        return Path(override)
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "pelodump"


class TokenCache:
    """tokens.json in a 0700 directory, mode 0600 from its first byte, one entry per auth host and
    username; replaced atomically so a crash leaves the old or the new version, never half."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "tokens.json"

    @staticmethod
    def key(auth_url: str, username: str) -> str:
        return f"{_origin(auth_url)} {username.strip().casefold()}"

    def load(self, key: str) -> Tokens | None:
        entry = self._read().get(key)
        if entry is None:
            return None
        try:
            tokens = Tokens(**entry)
        except TypeError:  # not a dict, or fields it should not have
            tokens = None
        if tokens is None or not _well_typed(tokens):
            log.warning("ignoring an unreadable entry in %s", self.path)
            return None
        return tokens

    def save(self, key: str, tokens: Tokens) -> None:
        entries = self._read()
        entries[key] = asdict(tokens)
        data = json.dumps({"version": 1, "tokens": entries}, indent=2).encode()
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = directory / f".tokens.json.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)  # make the rename itself durable
        finally:
            os.close(directory_fd)

    def _make_private(self, fd: int) -> None:
        """Tighten a cache readable by others (written by hand, or copied) to 0600: the open
        file itself, so no symlink or rename can point the change elsewhere, and only one of
        the user's own; where it cannot be done, say so and use it anyway."""
        status = os.fstat(fd)
        if not status.st_mode & 0o077:
            return
        try:
            if status.st_uid != os.getuid():
                raise PermissionError(errno.EPERM, "owned by another user")
            os.fchmod(fd, 0o600)
            log.warning("%s was readable by others: it is now readable by you alone", self.path)
        except OSError as exc:
            log.warning(
                "%s is readable by others and could not be made private (%s)",
                self.path,
                exc.strerror or type(exc).__name__,
            )

    def _read(self) -> dict[str, Any]:
        try:
            with open(self.path, "rb") as file:
                self._make_private(file.fileno())
                data = json.loads(file.read())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning(
                "ignoring the unreadable token cache %s (%s)", self.path, type(exc).__name__
            )
            return {}
        entries = data.get("tokens") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}


def _well_typed(tokens: Tokens) -> bool:
    """Whether a cached entry has the types Tokens promises (a hand-edited file may not)."""
    number = (int, float)
    return (
        isinstance(tokens.access_token, str)
        and bool(tokens.access_token)
        and isinstance(tokens.refresh_token, str | None)
        and isinstance(tokens.expires_at, number)
        and isinstance(tokens.obtained_at, number)
        and isinstance(tokens.token_type, str)
        and not isinstance(tokens.expires_at, bool)
        and not isinstance(tokens.obtained_at, bool)
    )


# --- the crawler's view ------------------------------------------------------------------------


class TokenSource:
    """The crawler's only interface to logging in: the current access token, kept fresh.

    Build it with `from_environment`. `access_token()` refreshes shortly before expiry;
    `refresh_after_rejection()` is what to call when the API answers 401 (error_code 3020).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        auth_url: str,
        tokens: Tokens,
        cache: TokenCache | None = None,
        cache_key: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._auth_url = auth_url
        self._tokens = tokens
        self._cache = cache
        self._cache_key = cache_key
        self._clock = clock
        self._lock = asyncio.Lock()

    @classmethod
    async def from_environment(
        cls,
        session: aiohttp.ClientSession,
        *,
        auth_url: str,
        token_file: Path | None,
        cache_dir: Path | None = None,
        prompt: bool = True,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> TokenSource:
        """The first of: PELOTON_TOKEN; the token file; cached tokens for PELOTON_USERNAME;
        PELOTON_USERNAME with PELOTON_PASSWORD; a username and password asked on the terminal.

        `environ` replaces os.environ: the demo passes its own, so a user's real PELOTON_TOKEN is
        never sent to the simulator.
        """
        env = os.environ if environ is None else environ
        if pasted := env.get("PELOTON_TOKEN", "").strip():
            return cls(session, auth_url=auth_url, tokens=pasted_tokens(pasted, clock()))
        if token_file is not None:
            text = _read_token_file(token_file)
            return cls(session, auth_url=auth_url, tokens=pasted_tokens(text, clock()))

        interactive = prompt and sys.stdin.isatty()
        username = env.get("PELOTON_USERNAME", "").strip()
        if not username and interactive:
            username = _prompted(_ask, "Peloton username or email: ")
        if not username:
            raise LoginError(NO_CREDENTIALS)
        cache = TokenCache(cache_dir or default_cache_dir())
        key = TokenCache.key(auth_url, username)

        cached = cache.load(key)
        if cached is not None:
            source = cls(
                session, auth_url=auth_url, tokens=cached, cache=cache, cache_key=key, clock=clock
            )
            try:
                await source.access_token()  # refreshes if near expiry
                log.info("using cached tokens from %s", cache.path)
                return source
            except RefreshRejected:
                log.warning("the cached refresh token was refused; logging in again")

        password = env.get("PELOTON_PASSWORD", "")
        if not password and interactive:
            try:
                password = _prompted(getpass.getpass, "Peloton password: ")
            except EOFError:  # Ctrl-D: no password given
                password = ""
        if not password:
            raise LoginError(
                "no password: set PELOTON_PASSWORD (or PELOTON_TOKEN, or use --token-file)"
            )
        tokens = await login_with_password(session, auth_url, username, password, clock=clock)
        try:
            cache.save(key, tokens)
        except OSError as exc:  # a logged-in run goes on: losing it would mean logging in again
            log.warning(
                "could not save the tokens to %s (%s): the next run logs in again",
                cache.path,
                exc.strerror or type(exc).__name__,
            )
        return cls(
            session, auth_url=auth_url, tokens=tokens, cache=cache, cache_key=key, clock=clock
        )

    async def access_token(self) -> str:
        """The current access token, refreshed first if it expires within the margin."""
        if self._tokens.needs_refresh(self._clock()):
            async with self._lock:
                if self._tokens.needs_refresh(self._clock()):  # nobody refreshed meanwhile
                    await self._refresh()
        return self._tokens.access_token

    @property
    def current_access_token(self) -> str:
        """The access token in use right now, as it is (`access_token` refreshes it first)."""
        return self._tokens.access_token

    async def refresh_after_rejection(self, rejected_token: str) -> str:
        """A working access token after the API rejected `rejected_token` (401, error_code 3020).

        However many workers report the same rejected token at once, it is refreshed once: the
        others find a different current token and get that one.
        """
        async with self._lock:
            if self._tokens.access_token != rejected_token:
                return self._tokens.access_token
            if self._tokens.refresh_token is None:
                raise LoginError(PASTED_TOKEN_REJECTED)
            await self._refresh()
            return self._tokens.access_token

    async def _refresh(self) -> None:
        if self._cache is not None and self._cache_key is not None:
            # Another pelodump on this account may have refreshed already, spending our refresh
            # token: replaying it would revoke every token of the account. Take theirs.
            saved = self._cache.load(self._cache_key)
            if (
                saved is not None
                and saved.refresh_token != self._tokens.refresh_token
                and not saved.needs_refresh(self._clock())
            ):
                self._tokens = saved
                log.info("using the tokens another pelodump refreshed")
                return
        tokens = await refresh(self._session, self._auth_url, self._tokens, clock=self._clock)
        # The old refresh token is spent: save the new one before anything uses the new tokens,
        # or a crash now would leave only a refresh token whose re-use revokes the family.
        if self._cache is not None and self._cache_key is not None:
            try:
                self._cache.save(self._cache_key, tokens)
            except OSError as exc:
                log.warning(
                    "could not save the refreshed tokens to %s (%s): the next run logs in again",
                    self._cache.path,
                    exc.strerror or type(exc).__name__,
                )
        self._tokens = tokens
        log.info("refreshed the access token")


def pasted_tokens(text: str, now: float) -> Tokens:
    """Tokens for an access token pasted from a browser: whitespace and a "Bearer " prefix go."""
    token = text.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if (
        not token
        or token.lower() == "bearer"
        or any(c.isspace() or not c.isprintable() for c in token)
    ):
        raise LoginError("the pasted access token is empty or not one token")
    return Tokens(access_token=token, refresh_token=None, expires_at=math.inf, obtained_at=now)


def _prompted(ask: Callable[[str], str], prompt: str) -> str:
    """Ask on the terminal, on this thread (nothing else runs before the login) and with Ctrl-C
    raising KeyboardInterrupt at once: asyncio.run's own handler only cancels the main task,
    which a blocked prompt never sees, and a prompt on a worker thread kept the process alive."""
    if threading.current_thread() is not threading.main_thread():  # no handler to swap there
        return ask(prompt)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return ask(prompt)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ask(prompt: str) -> str:
    # The prompt goes to stderr, as getpass's does, so that it shows even when stdout is piped.
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip()


# Peloton's access tokens are a few kilobytes; a file far larger (/dev/zero) holds no token.
_MAX_TOKEN_FILE_BYTES = 1 << 20


def _read_token_file(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            data = file.read(_MAX_TOKEN_FILE_BYTES + 1)
        if len(data) > _MAX_TOKEN_FILE_BYTES:
            raise LoginError(f"cannot read the token file {path}: far too large to be a token")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise LoginError(f"cannot read the token file {path}: {reason}") from exc
