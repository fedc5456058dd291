"""The simulated Peloton API over real HTTP (aiohttp.web), with the login beside it.

Two apps on two loopback ports, as clients see two hosts: the API (`api_url`) and the Auth0 login
(`auth_url`, from auth0.py). Every request is logged; tests read the log, the counters, the most
requests seen in any window, and the SHA-256 of every body served whole.

    async with run_sim(workouts=50, seed=1, faults=Faults(p_503=0.1)) as sim:
        token = sim.access_token()
        ...  # talk to sim.api_url
    with sim_in_thread(workouts=50) as sim:  # for synchronous callers
        ...
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from pelodump.sim.auth0 import SimUser, TokenStore, add_auth_routes
from pelodump.sim.faults import Faults, FaultState, cloudflare_1015_page
from pelodump.sim.member import DEFAULT_JOINS, Member

LOOPBACK = "127.0.0.1"
NOT_LOGGED_IN = {
    "status": 401,
    "error_code": 3020,
    "subcode": None,
    "message": "Not logged in",
    "details": None,
}
LEGACY_LOGIN_GONE = {
    "status": 403,
    "message": "Access forbidden. Endpoint no longer accepting requests.",
}
_HEX32 = re.compile(r"[0-9a-f]{32}")


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The most events within any closed window [t, t + seconds]: a client sending exactly
    `rate` events a second shows rate * seconds + 1."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] > seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True)
class RequestRecord:
    """One request as the simulator saw it."""

    time: float  # monotonic seconds at arrival
    method: str
    path: str
    query: str  # the raw query string
    status: int  # what was answered (or begun to be answered, for a reset or truncated body)
    bearer: bool  # whether an `Authorization: Bearer ...` header came with it
    # "rate_limit", "500", "502", "503", "reset", "truncate", "invalid_json", or "down" (a
    # 503 for one of `Faults.down_paths`)
    fault: str | None
    api: bool  # API host (True) or login host (False)


@dataclass
class Sim:
    """A running simulator: what tests and the demo need to reach and observe it."""

    member: Member
    tokens: TokenStore
    faults: Faults
    api_url: str = ""
    auth_url: str = ""
    log: list[RequestRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # by status ("200") and fault name
    _served: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    @property
    def user(self) -> SimUser:
        return SimUser(self.member.user_id, self.member.username, self.member.password)

    def access_token(self) -> str:
        """A fresh access token for the member, without the login dance."""
        return self.tokens.issue_for(self.user)["access_token"]

    def api_log(self) -> list[RequestRecord]:
        return [r for r in self.log if r.api]

    def max_requests_in_window(self, seconds: float) -> int:
        """The most API requests that arrived within any window [t, t + seconds]."""
        return most_in_any_window([r.time for r in self.log if r.api], seconds)

    def served_sha256(self, path: str, query: str = "") -> set[str]:
        """SHA-256 hex digests of the 200 bodies served whole for this path and raw query."""
        return set(self._served.get((path, query), ()))

    def _record(
        self, request: web.Request, arrived: float, status: int, fault: str | None, api: bool
    ) -> None:
        bearer = request.headers.get("Authorization", "").startswith("Bearer ")
        self.log.append(
            RequestRecord(
                arrived,
                request.method,
                request.path,
                request.rel_url.raw_query_string,
                status,
                bearer,
                fault,
                api,
            )
        )
        self.counts[str(status)] += 1
        if fault:
            self.counts[fault] += 1


SIM = web.AppKey("sim", Sim)
STATE = web.AppKey("fault_state", FaultState)
IS_API = web.AppKey("is_api", bool)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- the request pipeline ----------------------------------------------------------------------


@web.middleware
async def _pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log, then faults, then (API only) the bearer token, then the handler."""
    sim, state, api = request.app[SIM], request.app[STATE], request.app[IS_API]
    arrived = state.clock()
    decision = state.decide(api=api, path=request.path)
    if decision.delay_s:
        await asyncio.sleep(decision.delay_s)
    if decision.add_workout:
        sim.member.add_workout()
    if decision.expire_tokens:
        sim.tokens.expire_all_access_tokens()

    def done(response: web.StreamResponse, fault: str | None = None) -> web.StreamResponse:
        sim._record(request, arrived, response.status, fault, api)
        return response

    if decision.retry_after_s is not None:
        return done(_rate_limited(sim.faults, decision.retry_after_s), "rate_limit")
    if decision.fault in ("502", "503"):
        return done(_cloudflare_error(int(decision.fault)), decision.fault)
    if api and sim.faults.is_down(request.path):
        return done(_cloudflare_error(503), "down")
    if api and not _is_open(request) and _authorized(request, sim) is None:
        return done(_json(401, NOT_LOGGED_IN))
    if decision.fault == "500":
        body = {"status": 500, "error_code": 500, "message": "Internal Server Error"}
        return done(_json(500, body), "500")
    try:
        response = await handler(request)
    except BadRequest as error:
        response = _json(400, {"status": 400, "message": str(error)})
    except web.HTTPException as error:  # unknown routes and methods: JSON like everything else
        response = _json(error.status, {"status": error.status, "message": error.reason})
    except Exception as error:  # a bug in the simulator: answered and logged like any 500
        response = _json(500, {"status": 500, "message": f"simulator error: {error!r}"})
        return done(response, "bug")
    if response.status == 200 and isinstance(response, web.Response) and response.body is not None:
        body = bytes(response.body)  # type: ignore[arg-type]
        if decision.fault in ("reset", "truncate"):
            cut = await _cut_short(request, response, body, reset=decision.fault == "reset")
            return done(cut, decision.fault)
        if decision.fault == "invalid_json":
            response.body = body[: len(body) // 2]
            return done(response, "invalid_json")
        sim._served.setdefault((request.path, request.rel_url.raw_query_string), set()).add(
            hashlib.sha256(body).hexdigest()
        )
    return done(response)


def _is_open(request: web.Request) -> bool:
    return request.path == "/auth/login"


def _authorized(request: web.Request, sim: Sim) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return sim.tokens.validate(header.removeprefix("Bearer ").strip())


async def _cut_short(
    request: web.Request, response: web.Response, body: bytes, *, reset: bool
) -> web.StreamResponse:
    """Announce the whole body, send part of it, then reset (RST) or close (FIN) the connection."""
    stream = web.StreamResponse(status=200, headers={"Content-Type": response.content_type})
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: max(1, len(body) // 3)])
    await asyncio.sleep(0.02)  # let the part leave before the connection goes
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: close with RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return stream  # aiohttp finds the connection gone and writes nothing more


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
    )


def _rate_limited(faults: Faults, retry_after_s: int) -> web.Response:
    if faults.rate_limit_html:
        page = cloudflare_1015_page("api.onepeloton.com")
        return web.Response(status=429, text=page, content_type="text/html")
    body = {"status": 429, "message": "Too Many Requests"}
    return _json(429, body, {"Retry-After": str(retry_after_s)})


def _cloudflare_error(status: int) -> web.Response:
    title = {502: "Bad gateway", 503: "Service unavailable"}[status]
    page = _CLOUDFLARE_ERROR.format(status=status, title=title)
    return web.Response(status=status, text=page, content_type="text/html")


# --- the API routes ----------------------------------------------------------------------------


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}") from None


class BadRequest(Exception):
    """A query parameter the API would refuse: answered 400 with a JSON body."""


def _not_found(what: str) -> web.Response:
    return _json(
        404,
        {
            "status": 404,
            "error_code": 10,
            "subcode": None,
            "message": f"{what} not found",
            "details": None,
        },
    )


def _joins(request: web.Request) -> frozenset[str]:
    raw = request.query.get("joins")
    if raw is None:
        return frozenset()
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _check_user(request: web.Request, member: Member) -> web.Response | None:
    user_id = request.match_info["user_id"]
    if user_id == member.user_id:
        return None
    if _HEX32.fullmatch(user_id):  # someone else's (private) profile
        return _json(
            403,
            {
                "status": 403,
                "error_code": 3040,
                "subcode": None,
                "message": "Forbidden",
                "details": None,
            },
        )
    return _not_found("User")


def _routes(sim: Sim) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    member = sim.member

    @routes.get("/api/me")
    async def me(request: web.Request) -> web.Response:
        return _json(200, member.me())

    @routes.get("/api/user/{user_id}/workouts")
    async def workouts(request: web.Request) -> web.Response:
        refused = _check_user(request, member)
        if refused is not None:
            return refused
        page = member.workouts_page(
            _int(request, "page", 0), _int(request, "limit", 20), _joins(request)
        )
        return _json(200, page)

    @routes.get("/api/user/{user_id}/workout_history_csv")
    async def history_csv(request: web.Request) -> web.Response:
        refused = _check_user(request, member)
        if refused is not None:
            return refused
        text = member.history_csv(request.query.get("timezone", "America/New_York"))
        disposition = f'attachment; filename="{member.user_id}_workouts.csv"'
        return web.Response(
            body=text.encode(),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": disposition},
        )

    @routes.get("/api/workout/{workout_id}")
    async def workout(request: web.Request) -> web.Response:
        joins = _joins(request) if "joins" in request.query else DEFAULT_JOINS
        body = member.workout(request.match_info["workout_id"], joins)
        return _not_found("Workout") if body is None else _json(200, body)

    @routes.get("/api/workout/{workout_id}/performance_graph")
    async def performance_graph(request: web.Request) -> web.Response:
        every_n = _int(request, "every_n", 1)
        if every_n < 0:
            raise BadRequest("Invalid value for every_n")
        web_platform = request.headers.get("Peloton-Platform", "").lower() == "web"
        # The costliest body (up to tens of ms): made off the loop, which then logs arrivals as
        # they come instead of in a bunch when the graph is done (the rate proofs read them).
        body = await asyncio.to_thread(
            member.performance_graph,
            request.match_info["workout_id"],
            every_n,
            platform_web=web_platform,
        )
        return _not_found("Workout") if body is None else _json(200, body)

    @routes.get("/api/ride/{ride_id}/details")
    async def ride_details(request: web.Request) -> web.Response:
        body = member.ride_details(request.match_info["ride_id"])
        return _not_found("Ride") if body is None else _json(200, body)

    @routes.get("/api/instructor")
    async def instructors(request: web.Request) -> web.Response:
        return _json(200, member.instructors(_int(request, "page", 0), _int(request, "limit", 20)))

    @routes.get("/api/instructor/{instructor_id}")
    async def instructor(request: web.Request) -> web.Response:
        body = member.instructor(request.match_info["instructor_id"])
        return _not_found("Instructor") if body is None else _json(200, body)

    @routes.post("/auth/login")
    async def legacy_login(request: web.Request) -> web.Response:
        return _json(403, LEGACY_LOGIN_GONE)

    @routes.route("*", "/{tail:.*}")
    async def unknown(request: web.Request) -> web.Response:
        return _not_found("Resource")

    return routes


def build_apps(sim: Sim, state: FaultState) -> tuple[web.Application, web.Application]:
    """The API app and the login app, sharing the simulator, its tokens and its fault dice."""
    api = web.Application(middlewares=[_pipeline])
    api[SIM], api[STATE], api[IS_API] = sim, state, True
    api.add_routes(_routes(sim))
    auth = web.Application(middlewares=[_pipeline])
    auth[SIM], auth[STATE], auth[IS_API] = sim, state, False
    add_auth_routes(auth, users=[sim.user], tokens=sim.tokens)
    return api, auth


# --- running it --------------------------------------------------------------------------------


@asynccontextmanager
async def run_sim(
    *,
    workouts: int = 50,
    seed: int = 1,
    units: str = "imperial",
    faults: Faults | None = None,
    member: Member | None = None,
    host: str = LOOPBACK,
    api_port: int = 0,
    auth_port: int = 0,
    access_lifetime_s: float = 172_800.0,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> AsyncIterator[Sim]:
    """Serve a simulated member on `host` (loopback; port 0 picks free ports) until the block ends.

    `clock` drives token lifetimes, `monotonic` the request log and the rate limit.
    """
    faults = faults or Faults()
    sim = Sim(
        member=member or Member(seed=seed, workouts=workouts, units=units),
        tokens=TokenStore(access_lifetime_s=access_lifetime_s, clock=clock),
        faults=faults,
    )
    api_app, auth_app = build_apps(sim, FaultState(faults, clock=monotonic))
    runners = [web.AppRunner(api_app, access_log=None), web.AppRunner(auth_app, access_log=None)]
    try:
        urls = []
        for runner, port in zip(runners, (api_port, auth_port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            bound_host, bound_port = runner.addresses[0][:2]
            urls.append(f"http://{_url_host(bound_host)}:{bound_port}")
        sim.api_url, sim.auth_url = urls
        yield sim
    finally:
        for runner in runners:
            await runner.cleanup()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextmanager
def sim_in_thread(**kwargs: object) -> Iterator[Sim]:
    """`run_sim` on its own event loop in a background thread, for synchronous callers.

    Read the log and counters freely; to change the member while requests are in flight, prefer
    the `new_workout_every` fault, which runs on the server's own thread.
    """
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with run_sim(**kwargs) as sim:  # type: ignore[arg-type]
                box["sim"] = sim
                ready.set()
                await stop.wait()
        except BaseException as error:  # report start-up failures to the caller's thread
            box["error"] = error
            ready.set()

    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve(),), daemon=True, name="pelodump-sim"
    )
    thread.start()
    ready.wait()
    try:
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        yield box["sim"]  # type: ignore[misc]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        if not thread.is_alive():  # closing a loop that still runs would hide the real error
            loop.close()


_CLOUDFLARE_ERROR = """<!DOCTYPE html>
<html><head><title>api.onepeloton.com | {status}: {title}</title></head>
<body><div id="cf-wrapper"><div id="cf-error-details">
<h1><span class="inline-block">{title}</span>
<span class="code-label">Error code {status}</span></h1>
<p>Cloudflare could not get a valid answer from the origin server.</p>
</div></div></body></html>
"""
