"""Peloton's API endpoints: a request goes in, the status and the raw body bytes come out.

No retries, no parsing beyond what naming a request needs, no disk: the crawler decides what to do
with an answer and the archive keeps it. Redirects are never followed, so the bearer token is only
ever sent to the API base URL the user chose.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from pelodump.archive import utc_now
from pelodump.errors import PelodumpError

API_URL = "https://api.onepeloton.com"
JOINS = "ride,ride.instructor"
PAGE_LIMIT = 100  # the most the API gives per page
JUST_RIDE_ID = "0" * 32  # Just Ride and freestyle workouts: a ride with no class behind it

_PELOTON_ID = re.compile(r"[0-9a-f]{32}")


def check_http_url(option: str, url: str) -> None:
    """PelodumpError unless `url` is an absolute http(s) URL with a host and a valid port."""
    try:
        parsed = URL(url)
        valid = (
            parsed.scheme in ("http", "https")
            and bool(parsed.host)
            and bool(parsed.port)
            and not any(c.isspace() for c in url)
        )
    except (ValueError, TypeError):
        valid = False
    if not valid:
        # Not echoed: a URL may carry a password (https://user:secret@host).
        raise PelodumpError(f"{option} must be an http(s) URL with a host, such as {API_URL}")


def is_peloton_id(value: object) -> bool:
    """Peloton ids are 32 lowercase hex digits; anything else never goes into a URL path."""
    return isinstance(value, str) and _PELOTON_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Request:
    """One GET of the API, and the (kind, key) the archive files its answer under."""

    kind: str
    key: str
    path: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def query(self) -> str:
        """The query string exactly as sent and recorded (commas unescaped, as the web site)."""
        return urlencode(self.params, safe=",")


def me() -> Request:
    return Request("me", "me", "/api/me")


def workouts_page(user_id: str, page: int) -> Request:
    params = (("joins", JOINS), ("limit", str(PAGE_LIMIT)), ("page", str(page)))
    return Request(
        "workouts_page",
        str(page),
        f"/api/user/{user_id}/workouts",
        (*params, ("sort_by", "-created")),
    )


def workout(workout_id: str) -> Request:
    return Request("workout", workout_id, f"/api/workout/{workout_id}", (("joins", JOINS),))


def performance_graph(workout_id: str, every_n: int) -> Request:
    return Request(
        "performance_graph",
        workout_id,
        f"/api/workout/{workout_id}/performance_graph",
        (("every_n", str(every_n)),),
    )


def ride_details(ride_id: str) -> Request:
    return Request("ride_details", ride_id, f"/api/ride/{ride_id}/details")


def history_csv(user_id: str, timezone: str) -> Request:
    return Request(
        "history_csv",
        user_id,
        f"/api/user/{user_id}/workout_history_csv",
        (("timezone", timezone),),
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back for one request: an HTTP answer, with the whole body."""

    status: int
    body: bytes
    content_type: str | None
    retry_after: float | None  # seconds, from a Retry-After header in seconds
    started_at: str
    elapsed_ms: float


class TransportError(Exception):
    """No whole HTTP answer: connection refused or reset, timeout, body cut short."""

    def __init__(
        self, reason: str, started_at: str, elapsed_ms: float, *, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.started_at = started_at
        self.elapsed_ms = elapsed_ms
        self.unreachable = unreachable  # no connection could be made: refused, no such host


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare enough that the backoff schedule serves instead


async def send(
    session: aiohttp.ClientSession, base_url: str, request: Request, token: str
) -> Answer:
    """GET one request with the bearer token; raise TransportError when no answer came."""
    started_at = utc_now()
    start = time.perf_counter()
    query = request.query
    url = URL(base_url.rstrip("/") + request.path + (f"?{query}" if query else ""), encoded=True)
    headers = {
        "Authorization": f"Bearer {token}",
        "Peloton-Platform": "web",
        "Accept": "application/json",
    }
    try:
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            body = await response.read()
            return Answer(
                status=response.status,
                body=body,
                content_type=response.headers.get("Content-Type"),
                retry_after=_retry_after(response.headers.get("Retry-After")),
                started_at=started_at,
                elapsed_ms=(time.perf_counter() - start) * 1000,
            )
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        # Name the failure by its type and text; aiohttp's messages carry URLs, never headers.
        reason = f"{type(error).__name__}: {error}".rstrip(": ")
        elapsed_ms = (time.perf_counter() - start) * 1000
        unreachable = isinstance(error, aiohttp.ClientConnectorError)
        raise TransportError(reason, started_at, elapsed_ms, unreachable=unreachable) from None
