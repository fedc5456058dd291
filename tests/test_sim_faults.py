"""Each fault knob of the simulator does what it says, reproducibly, over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest

from pelodump.sim.auth0 import TokenStore
from pelodump.sim.faults import Faults, FaultState
from pelodump.sim.server import NOT_LOGGED_IN, Sim, run_sim


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


Answer = tuple[int, dict[str, str], bytes]


def with_sim(test: Callable[[Sim, Callable[..., Awaitable[Answer]]], Awaitable[None]],
             **options: Any) -> None:  # fmt: skip
    async def main() -> None:
        async with run_sim(workouts=30, **options) as sim, aiohttp.ClientSession() as session:
            default = sim.access_token()

            async def get(path: str = "/api/me", token: str | None = default) -> Answer:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with session.get(sim.api_url + path, headers=headers) as response:
                    return response.status, dict(response.headers), await response.read()

            await test(sim, get)

    asyncio.run(main())


def test_latency_delays_api_requests_only() -> None:
    state = FaultState(Faults(latency_ms=150, jitter_ms=50))
    delays = [state.decide(api=True).delay_s for _ in range(200)]
    assert all(0.15 <= d <= 0.2 for d in delays) and len(set(delays)) > 100
    assert state.decide(api=False).delay_s == 0

    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(3):
            assert (await get())[0] == 200
        assert loop.time() - started >= 0.45  # a lower bound: sleeping never ends early

    with_sim(test, faults=Faults(latency_ms=150))


def test_rate_limit_answers_429_with_retry_after_until_the_bucket_refills() -> None:
    clock = FakeClock()

    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        assert [(await get())[0] for _ in range(2)] == [200, 200]
        status, headers, raw = await get()
        assert status == 429 and headers["Retry-After"] == "1"
        assert headers["Content-Type"] == "application/json" and json.loads(raw)["status"] == 429
        assert sim.log[-1].fault == "rate_limit" and sim.counts["rate_limit"] == 1
        clock.now += 0.5
        assert (await get())[0] == 200  # half a second refills one of the two tokens
        assert (await get())[0] == 429
        clock.now += 1.0
        assert [(await get())[0] for _ in range(2)] == [200, 200]

    with_sim(test, faults=Faults(rate_limit=2), monotonic=clock)


def test_a_slow_rate_limit_asks_to_wait_longer() -> None:
    state = FaultState(Faults(rate_limit=0.25), clock=FakeClock())
    assert state.decide(api=True).retry_after_s is None
    assert state.decide(api=True).retry_after_s == 4


def test_a_rate_limit_on_some_paths_leaves_the_others_alone() -> None:
    graphs = "/api/workout/*/performance_graph"
    state = FaultState(Faults(rate_limit=1, rate_limited_paths=(graphs,)), clock=FakeClock())
    graph, page = "/api/workout/abc/performance_graph", "/api/user/u/workouts"
    assert state.decide(api=True, path=graph).retry_after_s is None
    assert [state.decide(api=True, path=page).retry_after_s for _ in range(5)] == [None] * 5
    assert state.decide(api=True, path=graph).retry_after_s == 1


def test_rate_limit_can_answer_with_cloudflares_html_page() -> None:
    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        assert (await get())[0] == 200
        status, headers, raw = await get()
        assert status == 429 and headers["Content-Type"].startswith("text/html")
        assert b"1015" in raw and b"rate limited" in raw

    with_sim(test, faults=Faults(rate_limit=1, rate_limit_html=True), monotonic=FakeClock())


@pytest.mark.parametrize(
    ("status", "content_type"), [(500, "application/json"), (502, "text/html"), (503, "text/html")]
)
def test_error_statuses(status: int, content_type: str) -> None:
    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        got, headers, _ = await get()
        assert got == status and headers["Content-Type"].startswith(content_type)
        assert sim.log[-1].fault == str(status) and sim.log[-1].status == status

    with_sim(test, faults=Faults(**{f"p_{status}": 1.0}))


async def read_broken(sim: Sim, session: aiohttp.ClientSession) -> tuple[int, int, BaseException]:
    """GET /api/me reading chunk by chunk: (announced length, bytes received, the error)."""
    received = 0
    headers = {"Authorization": f"Bearer {sim.access_token()}"}
    async with session.get(sim.api_url + "/api/me", headers=headers) as response:
        announced = int(response.headers["Content-Length"])
        try:
            async for chunk in response.content.iter_any():
                received += len(chunk)
        except aiohttp.ClientPayloadError as error:
            return announced, received, error
    raise AssertionError("the body arrived whole")


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_bodies_cut_short(fault: str) -> None:
    async def main() -> None:
        faults = Faults(**{f"p_{fault}": 1.0})
        async with run_sim(workouts=5, faults=faults) as sim, aiohttp.ClientSession() as session:
            announced, received, error = await read_broken(sim, session)
        assert 0 < received < announced
        # aiohttp names the reset (RST) in its message; a plain close (FIN) is only "too short".
        assert ("ConnectionResetError" in str(error)) == (fault == "reset"), str(error)
        assert sim.log[-1].fault == fault and sim.log[-1].status == 200
        assert sim.served_sha256("/api/me") == set()  # nothing was served whole

    asyncio.run(main())


def test_invalid_json_comes_with_status_200() -> None:
    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        status, headers, raw = await get()
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert int(headers["Content-Length"]) == len(raw)
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(raw)

    with_sim(test, faults=Faults(p_invalid_json=1.0))


def test_fault_dice_are_reproducible_from_their_seed() -> None:
    runs: list[list[tuple[int, str | None]]] = []

    def run(seed: int) -> None:
        faults = Faults(
            p_500=0.1, p_503=0.1, p_reset=0.1, p_truncate=0.1, p_invalid_json=0.1, seed=seed
        )

        async def main() -> None:
            async with (
                run_sim(workouts=5, faults=faults) as sim,
                aiohttp.ClientSession() as session,
            ):
                headers = {"Authorization": f"Bearer {sim.access_token()}"}
                for _ in range(60):
                    try:
                        async with session.get(sim.api_url + "/api/me", headers=headers) as r:
                            await r.read()
                    except aiohttp.ClientError:
                        pass
            runs.append([(r.status, r.fault) for r in sim.log])

        asyncio.run(main())

    run(5)
    run(5)
    run(6)
    assert runs[0] == runs[1] and runs[0] != runs[2]
    faults_seen = {fault for _, fault in runs[0]}
    assert faults_seen == {None, "500", "503", "reset", "truncate", "invalid_json"}


def test_access_tokens_expire_every_n_requests_and_refresh_still_works() -> None:
    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        first = sim.tokens.issue_for(sim.user)
        token = first["access_token"]
        assert [(await get(token=token))[0] for _ in range(2)] == [200, 200]
        status, _, raw = await get(token=token)  # the third request expires every token first
        assert status == 401 and json.loads(raw) == NOT_LOGGED_IN
        refreshed = sim.tokens.rotate(first["refresh_token"])
        assert refreshed is not None
        assert [(await get(token=refreshed["access_token"]))[0] for _ in range(3)] == [
            200,
            200,
            401,
        ]

    with_sim(test, faults=Faults(expire_tokens_every=3))


def test_access_tokens_expire_once_after_some_seconds() -> None:
    clock = FakeClock()

    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        token = sim.access_token()
        assert (await get(token=token))[0] == 200
        clock.now += 11
        assert (await get(token=token))[0] == 401
        assert (await get(token=sim.access_token()))[0] == 200  # only once

    with_sim(test, faults=Faults(expire_tokens_after_s=10), monotonic=clock)


def test_new_workouts_appear_while_pages_are_walked() -> None:
    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        before = set(sim.member.workout_ids())
        uid = sim.member.user_id
        ids: list[str] = []
        page = 0
        while True:
            _, _, raw = await get(f"/api/user/{uid}/workouts?limit=10&page={page}")
            body = json.loads(raw)
            ids += [w["id"] for w in body["data"]]
            if not body["show_next"]:
                break
            page += 1
        assert sim.member.total > 30
        assert len(ids) > len(set(ids))  # shifted pages show some workouts twice
        assert set(ids) >= before - set(sim.member.workout_ids()[: sim.member.total - 30 + 10])

    with_sim(test, faults=Faults(new_workout_every=2))


def test_login_routes_are_spared_unless_asked() -> None:
    async def token_status(faults: Faults) -> int:
        async with (
            run_sim(workouts=3, faults=faults) as sim,
            aiohttp.ClientSession() as session,
            session.post(sim.auth_url + "/oauth/token", json={"grant_type": "x"}) as response,
        ):
            assert not sim.log[-1].api
            return response.status

    assert asyncio.run(token_status(Faults(p_503=1.0))) == 401  # Auth0's own answer
    assert asyncio.run(token_status(Faults(p_503=1.0, apply_to_auth=True))) == 503


def test_the_log_and_the_window_counter() -> None:
    clock = FakeClock()

    async def test(sim: Sim, get: Callable[..., Awaitable[Answer]]) -> None:
        for at in (0.0, 0.125, 0.25, 1.0, 1.5, 1.625, 3.0):  # exact in binary
            clock.now = 100.0 + at
            await get("/api/workout/nope?joins=ride")
        await get("/api/me", token=None)
        assert sim.max_requests_in_window(1.0) == 4  # 0 to 1.0: the window is closed
        assert sim.max_requests_in_window(0.5) == 3
        assert sim.max_requests_in_window(10) == 8
        first, last = sim.log[0], sim.log[-1]
        assert (first.method, first.path, first.query, first.status) == (
            "GET", "/api/workout/nope", "joins=ride", 404)  # fmt: skip
        assert first.bearer and not last.bearer and last.status == 401
        assert sim.counts["404"] == 7 and sim.counts["401"] == 1

    with_sim(test, monotonic=clock)


def test_token_expiry_every_n_requests_still_fires_while_a_timed_expiry_waits() -> None:
    state = FaultState(Faults(expire_tokens_every=2, expire_tokens_after_s=100), clock=lambda: 0.0)
    assert [state.decide(api=True).expire_tokens for _ in range(4)] == [False, True, False, True]


def test_an_endless_token_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="lifetime"):
        TokenStore(access_lifetime_s=float("inf"))
