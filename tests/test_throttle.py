"""The throttle: no burst past the rate, one shared cooldown, bounded backoff."""

from __future__ import annotations

import asyncio

from pelodump.sim.server import most_in_any_window
from pelodump.throttle import RetryPolicy, Throttle


def test_rate_limit_allows_no_burst_in_any_window() -> None:
    rate = 40.0

    async def take_slots() -> list[float]:
        throttle = Throttle(rate, concurrency=50)
        loop = asyncio.get_running_loop()
        times: list[float] = []

        async def one() -> None:
            async with throttle.slot():
                times.append(loop.time())

        await asyncio.gather(*(one() for _ in range(50)))
        return times

    times = asyncio.run(take_slots())
    assert len(times) == 50
    for window in (0.05, 0.1, 0.25, 0.5, 1.0):
        assert most_in_any_window(times, window) <= rate * window + 1


def test_concurrency_bounds_slots_held_at_once() -> None:
    async def hold_slots() -> int:
        throttle = Throttle(1000.0, concurrency=3)
        held = peak = 0

        async def one() -> None:
            nonlocal held, peak
            async with throttle.slot():
                held += 1
                peak = max(peak, held)
                await asyncio.sleep(0.01)
                held -= 1

        await asyncio.gather(*(one() for _ in range(12)))
        return peak

    assert asyncio.run(hold_slots()) == 3


def test_cooldown_pauses_every_worker_until_the_latest_deadline() -> None:
    now = 100.0
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        nonlocal now
        slept.append(seconds)
        now += seconds

    async def scenario() -> None:
        throttle = Throttle(1000.0, 2, clock=lambda: now, sleep=fake_sleep)
        throttle.cool_down(5.0)
        throttle.cool_down(2.0)  # an earlier deadline does not shorten the pause
        async with throttle.slot():
            pass
        assert now >= 105.0
        async with throttle.slot():  # after the cooldown nobody waits
            pass

    asyncio.run(scenario())
    assert slept == [5.0]


def test_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    assert [policy.backoff(n, rng=lambda: 1.0) for n in range(1, 8)] == [
        1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0
    ]  # fmt: skip
    assert policy.backoff(3, rng=lambda: 0.25) == 1.0
    assert policy.cooldown(retry_after=7.0, attempt=1) == 7.0
    assert policy.cooldown(retry_after=86_400.0, attempt=1) == policy.max_retry_after
    assert 0.5 <= policy.cooldown(retry_after=None, attempt=1) <= 1.5
