"""The simulated Auth0 login of auth.onepeloton.com, as the web site uses it today.

The authorization-code flow with PKCE (see shared/peloton-api.md, "Logging in"):

    GET  /authorize               checks the PKCE request, sets the `_csrf` cookie, 302 to /login
    GET  /login                   the login page (HTML)
    POST /usernamepassword/login  JSON credentials: 200 HTML with the hidden form, or 4xx JSON
    POST /login/callback          the hidden form: sets the `auth0` session cookie, 302 to resume
    GET  /authorize/resume        302 to redirect_uri?code=...&state=<the client's state>
    POST /oauth/token             authorization_code (verifier checked), refresh_token (rotation)

It checks what the real service checks where a client could get it wrong: the client id, the
callback URL, S256, the new `state` of the login page, the `_csrf` cookie against the body, the
session cookie, single-use codes, the verifier, and refresh-token rotation with family revocation
on re-use. Every value it hands out is random: none is, or looks derived from, a real secret.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

from pelodump.sim.faults import cloudflare_1015_page

CLIENT_ID = "WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM"
CALLBACK_URLS = frozenset({"https://members.onepeloton.com/callback"})
AUDIENCE = "https://api.onepeloton.com/"
DEFAULT_SCOPE = "offline_access openid peloton-api.members:default"
CONNECTION = "pelo-user-password"
TENANT = "peloton-prod"
CODE_LIFETIME_S = 600.0
ISSUER = "https://auth.onepeloton.com/"

_AUTHORIZE_REQUIRED = (
    "client_id",
    "response_type",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "state",
)
_LOGIN_REQUIRED = ("client_id", "state", "_csrf", "username", "password", "connection")


@dataclass(frozen=True)
class SimUser:
    user_id: str
    username: str
    password: str = field(repr=False)


@dataclass
class _AccessGrant:
    user_id: str
    family: str
    expires_at: float


@dataclass
class _RefreshGrant:
    user_id: str
    family: str
    scope: str
    rotated: bool = False


class TokenStore:
    """Every token the simulated Auth0 has issued, shared with the simulated API that checks them.

    A login starts a token family; each refresh rotates the refresh token within it. Re-using a
    rotated refresh token revokes the whole family: its refresh and access tokens stop working.
    """

    def __init__(
        self, access_lifetime_s: float = 172_800.0, clock: Callable[[], float] = time.time
    ) -> None:
        if not (access_lifetime_s > 0 and math.isfinite(access_lifetime_s)):
            raise ValueError("the access-token lifetime must be a positive number of seconds")
        self.access_lifetime_s = access_lifetime_s
        self.clock = clock
        self._access: dict[str, _AccessGrant] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._revoked_families: set[str] = set()
        self.issued_count = 0  # new families (logins, or tokens handed out directly)
        self.refreshed_count = 0  # successful refresh-token grants

    def validate(self, access_token: str) -> str | None:
        """The user id the access token belongs to, or None (unknown, expired or revoked)."""
        grant = self._access.get(access_token)
        if grant is None or grant.family in self._revoked_families:
            return None
        return grant.user_id if self.clock() < grant.expires_at else None

    def issue_for(
        self, user: SimUser, *, scope: str = DEFAULT_SCOPE, nonce: str | None = None
    ) -> dict:
        """A full token response for a new family; a refresh token only with `offline_access`."""
        self.issued_count += 1
        return self._issue(user.user_id, secrets.token_hex(8), scope, nonce)

    def rotate(self, refresh_token: str) -> dict | None:
        """The refresh-token grant: a new token response, or None if the token is not usable."""
        grant = self._refresh.get(refresh_token)
        if grant is None or grant.family in self._revoked_families:
            return None
        if grant.rotated:  # a replayed refresh token may be stolen: revoke everything it led to
            self._revoked_families.add(grant.family)
            return None
        grant.rotated = True
        self.refreshed_count += 1
        return self._issue(grant.user_id, grant.family, grant.scope, None)

    def expire_all_access_tokens(self) -> None:
        """Fault: access tokens issued so far stop working; refresh tokens still work."""
        for grant in self._access.values():
            grant.expires_at = -math.inf

    def _issue(self, user_id: str, family: str, scope: str, nonce: str | None) -> dict:
        now = self.clock()
        expires_in = math.ceil(self.access_lifetime_s)
        subject = f"auth0|{user_id}"
        access_token = _jwt_looking(
            {"iss": ISSUER, "sub": subject, "aud": [AUDIENCE], "iat": int(now)}
            | {"exp": int(now + expires_in), "scope": scope, "jti": secrets.token_hex(8)}
        )
        self._access[access_token] = _AccessGrant(user_id, family, now + self.access_lifetime_s)
        id_claims = {"iss": ISSUER, "sub": subject, "aud": CLIENT_ID, "iat": int(now)}
        id_claims["exp"] = int(now + 36_000)
        if nonce is not None:
            id_claims["nonce"] = nonce
        answer: dict[str, Any] = {
            "access_token": access_token,
            "id_token": _jwt_looking(id_claims),
            "scope": scope,
            "expires_in": expires_in,
            "token_type": "Bearer",
        }
        if "offline_access" in scope.split():
            refresh_token = secrets.token_urlsafe(36)
            self._refresh[refresh_token] = _RefreshGrant(user_id, family, scope)
            answer["refresh_token"] = refresh_token
        return answer


@dataclass
class LoginRateLimit:
    """Fault: at most `max_logins` credential posts per `window_s` seconds; beyond that a 429 with
    Retry-After, or Cloudflare's error 1015 HTML page (which carries no Retry-After)."""

    max_logins: int
    window_s: float = 60.0
    cloudflare_html: bool = False


@dataclass
class _Transaction:
    """One /authorize request, keyed by the login page's `state`."""

    query: dict[str, str]
    csrf: str
    user_id: str | None = None
    session: str | None = None


@dataclass
class _Code:
    user_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    nonce: str | None
    expires_at: float


@dataclass
class AuthSim:
    """The login flow's state and counters; tests read it as `app[AUTH_SIM]`."""

    users: list[SimUser]
    tokens: TokenStore
    login_limit: LoginRateLimit | None = None
    login_posts: int = 0  # POST /usernamepassword/login, whatever the outcome
    logins: int = 0  # credential posts that were accepted
    _transactions: dict[str, _Transaction] = field(default_factory=dict)
    _wresults: dict[str, str] = field(default_factory=dict)  # wresult -> transaction state
    _codes: dict[str, _Code] = field(default_factory=dict)
    _recent_posts: deque[float] = field(default_factory=deque)

    async def authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        missing = [name for name in _AUTHORIZE_REQUIRED if not query.get(name)]
        if missing:
            return _oauth_error(400, "invalid_request", f"Missing required parameter: {missing[0]}")
        if query["client_id"] != CLIENT_ID:
            return _oauth_error(400, "invalid_client", "Unknown client")
        if query["redirect_uri"] not in CALLBACK_URLS:
            return _oauth_error(400, "invalid_request", "Callback URL mismatch")
        if query["response_type"] != "code":
            return _oauth_error(400, "unsupported_response_type", "Unsupported response type")
        if query["code_challenge_method"] != "S256":
            return _oauth_error(400, "invalid_request", "Unsupported code_challenge_method")
        if query.get("audience", AUDIENCE) != AUDIENCE:
            return _oauth_error(403, "access_denied", "Service not found")
        if query.get("response_mode", "query") != "query":
            return _oauth_error(400, "invalid_request", "Unsupported response_mode")
        query.setdefault("scope", "openid")
        state = secrets.token_urlsafe(24)  # the login page's own state, as Auth0 issues one
        csrf = secrets.token_urlsafe(24)
        self._transactions[state] = _Transaction(query, csrf)
        login_page = URL("/login").with_query(
            state=state, client=CLIENT_ID, protocol="oauth2", scope=query["scope"]
        )
        response = web.Response(status=302, headers={"Location": str(login_page)})
        _set_cookie(response, request, "_csrf", csrf, path="/usernamepassword/login")
        return response

    async def login_page(self, request: web.Request) -> web.Response:
        if request.query.get("state") not in self._transactions:
            return _html(400, "<h1>Invalid state</h1>")
        return _html(200, _LOGIN_PAGE)

    async def usernamepassword_login(self, request: web.Request) -> web.Response:
        self.login_posts += 1
        limited = self._rate_limited()
        if limited is not None:
            return limited
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _auth0_error(400, "invalid_request", "Invalid JSON body", "BadRequestError")
        missing = [name for name in _LOGIN_REQUIRED if not body.get(name)]
        if missing:
            message = f"Missing required field: {missing[0]}"
            return _auth0_error(400, "invalid_request", message, "BadRequestError")
        transaction = self._transactions.get(str(body["state"]))
        if transaction is None:
            return _auth0_error(403, "invalid_state", "Invalid state", "AnomalyDetected")
        if not secrets.compare_digest(
            request.cookies.get("_csrf", ""), transaction.csrf
        ) or not secrets.compare_digest(str(body["_csrf"]), transaction.csrf):
            return _auth0_error(403, "invalid_csrf", "Invalid csrf token", "ForbiddenError")
        if body["client_id"] != CLIENT_ID or body["connection"] != CONNECTION:
            return _auth0_error(400, "invalid_request", "Unknown client or connection", "Error")
        user = self._find_user(str(body["username"]), str(body["password"]))
        if user is None:
            return _auth0_error(
                401, "invalid_user_password", "Wrong email or password.", "ValidationError"
            )
        self.logins += 1
        transaction.user_id = user.user_id
        wresult = _jwt_looking({"sub": f"auth0|{user.user_id}", "jti": secrets.token_hex(8)})
        self._wresults[wresult] = str(body["state"])
        wctx = {
            "strategy": "auth0",
            "tenant": TENANT,
            "connection": CONNECTION,
            "client_id": CLIENT_ID,
            "response_type": "code",
            "response_mode": "query",
            "scope": transaction.query["scope"],
            "protocol": "oauth2",
            "redirect_uri": transaction.query["redirect_uri"],
            "state": body["state"],
            "sid": secrets.token_urlsafe(16),
            "audience": transaction.query.get("audience", AUDIENCE),
            "realm": CONNECTION,
        }
        action = f"{request.scheme}://{request.host}/login/callback"
        return _html(200, _hidden_form(action, wa="wsignin1.0", wresult=wresult, wctx=wctx))

    async def login_callback(self, request: web.Request) -> web.Response:
        form = await request.post()
        state = self._wresults.pop(str(form.get("wresult", "")), None)
        try:
            wctx = json.loads(str(form.get("wctx", "")))
        except ValueError:
            wctx = None
        transaction = self._transactions.get(state or "")
        if transaction is None or not isinstance(wctx, dict) or wctx.get("state") != state:
            return _html(400, "<h1>Invalid wresult or wctx</h1>")
        transaction.session = secrets.token_urlsafe(24)
        location = URL("/authorize/resume").with_query(state=state)
        response = web.Response(status=302, headers={"Location": str(location)})
        _set_cookie(response, request, "auth0", transaction.session, path="/")
        return response

    async def authorize_resume(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        transaction = self._transactions.get(state)
        session = request.cookies.get("auth0", "")
        if (
            transaction is None
            or transaction.user_id is None
            or transaction.session is None
            or not secrets.compare_digest(session, transaction.session)
        ):
            return _html(400, "<h1>Invalid state or session</h1>")
        del self._transactions[state]
        query = transaction.query
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            user_id=transaction.user_id,
            redirect_uri=query["redirect_uri"],
            code_challenge=query["code_challenge"],
            scope=query["scope"],
            nonce=query.get("nonce"),
            expires_at=self.tokens.clock() + CODE_LIFETIME_S,
        )
        target = URL(query["redirect_uri"]).update_query(code=code, state=query["state"])
        return web.Response(status=302, headers={"Location": str(target)})

    async def token(self, request: web.Request) -> web.Response:
        # Auth0 takes either encoding for every grant: the web site sends JSON, refreshes a form.
        try:
            if request.content_type == "application/json":
                body = await request.json()
            else:
                body = dict(await request.post())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _oauth_error(400, "invalid_request", "Invalid request body")
        if body.get("client_id") != CLIENT_ID:
            return _oauth_error(401, "access_denied", "Unauthorized")
        grant_type = body.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(body)
        if grant_type == "refresh_token":
            answer = self.tokens.rotate(str(body.get("refresh_token", "")))
            if answer is None:
                return _oauth_error(403, "invalid_grant", "Unknown or invalid refresh token.")
            return _token_answer(answer)
        return _oauth_error(403, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")

    def _exchange_code(self, body: dict) -> web.Response:
        code = self._codes.pop(str(body.get("code", "")), None)  # single use, even when refused
        if code is None or self.tokens.clock() >= code.expires_at:
            return _oauth_error(403, "invalid_grant", "Invalid authorization code")
        if body.get("redirect_uri") != code.redirect_uri:
            return _oauth_error(403, "invalid_grant", "Redirect URI mismatch")
        verifier = str(body.get("code_verifier", ""))
        if not secrets.compare_digest(s256(verifier), code.code_challenge):
            return _oauth_error(403, "invalid_grant", "Failed to verify code verifier")
        user = next(u for u in self.users if u.user_id == code.user_id)
        return _token_answer(self.tokens.issue_for(user, scope=code.scope, nonce=code.nonce))

    def _find_user(self, username: str, password: str) -> SimUser | None:
        for user in self.users:
            if user.username.casefold() == username.casefold():
                return user if secrets.compare_digest(user.password, password) else None
        return None

    def _rate_limited(self) -> web.Response | None:
        limit = self.login_limit
        if limit is None:
            return None
        now = self.tokens.clock()
        recent = self._recent_posts
        while recent and recent[0] <= now - limit.window_s:
            recent.popleft()
        if len(recent) < limit.max_logins:
            recent.append(now)
            return None
        if limit.cloudflare_html:
            return _html(429, cloudflare_1015_page("auth.onepeloton.com"))
        wait = math.ceil(recent[0] + limit.window_s - now) if recent else math.ceil(limit.window_s)
        response = _auth0_error(429, "too_many_requests", "Too many requests", "TooManyRequests")
        response.headers["Retry-After"] = str(max(1, wait))
        return response


AUTH_SIM = web.AppKey("auth_sim", AuthSim)


def add_auth_routes(
    app: web.Application,
    *,
    users: list[SimUser],
    tokens: TokenStore,
    login_limit: LoginRateLimit | None = None,
) -> None:
    """Mount the login routes on `app`; their state and counters are `app[AUTH_SIM]`."""
    sim = AuthSim(users=users, tokens=tokens, login_limit=login_limit)
    app[AUTH_SIM] = sim
    app.router.add_get("/authorize", sim.authorize)
    app.router.add_get("/login", sim.login_page)
    app.router.add_post("/usernamepassword/login", sim.usernamepassword_login)
    app.router.add_post("/login/callback", sim.login_callback)
    app.router.add_get("/authorize/resume", sim.authorize_resume)
    app.router.add_post("/oauth/token", sim.token)


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: base64url of its SHA-256, without padding."""
    return _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _jwt_looking(claims: dict[str, Any]) -> str:
    """Header.claims.signature like a JWT, with a random signature: nothing verifies it."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(secrets.token_bytes(64))}"


def _set_cookie(
    response: web.Response, request: web.Request, name: str, value: str, *, path: str
) -> None:
    # Secure and SameSite=None as Auth0 sends them, but only over TLS: plain loopback HTTP
    # clients would rightly refuse to send a Secure cookie back.
    if request.secure:
        response.set_cookie(name, value, path=path, httponly=True, secure=True, samesite="None")
    else:
        response.set_cookie(name, value, path=path, httponly=True)


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _auth0_error(status: int, code: str, description: str, name: str) -> web.Response:
    body = {"statusCode": status, "description": description, "name": name, "code": code}
    return web.json_response(body, status=status)


def _token_answer(answer: dict) -> web.Response:
    return web.json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _html(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/html")


def _hidden_form(action: str, **inputs: Any) -> str:
    fields = "".join(
        f'<input type="hidden" name="{name}" '
        f'value="{html.escape(value if isinstance(value, str) else json.dumps(value))}">'
        for name, value in inputs.items()
    )
    return (
        f'<form method="post" name="hiddenform" action="{html.escape(action)}">{fields}'
        "<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit"></noscript></form>'
        "<script>window.setTimeout(function(){document.forms[0].submit();},0);</script>"
    )


_LOGIN_PAGE = """<!DOCTYPE html>
<html><head><title>Log in | Peloton</title></head>
<body><div id="auth0-login-container"><form id="login-form">
<input name="username" type="email"><input name="password" type="password">
<button type="submit">Log in</button></form></div></body></html>
"""
