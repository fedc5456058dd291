"""The throttle: no burst past the rate, one shared cooldown, bounded backoff."""

from __future__ import annotations

import asyncio

from pelodump.sim.server import most_in_any_window
from pelodump.throttle import Outages, RetryPolicy, Throttle


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


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_kind_refused_every_time_while_others_are_served_is_down_and_probed_at_times() -> None:
    clock = Clock()
    outages = Outages(trip=4, probe_every=10.0, clock=clock)
    for key in "abc":
        outages.answered("detail")
        assert not outages.refused("graph", key, its_own=True)
        outages.answered("detail")
    assert outages.may_send("graph")
    assert outages.refused("graph", "d", its_own=True)  # the fourth in a row
    assert outages.down_for("graph") == 0.0 and outages.down_for("detail") is None
    assert outages.may_send("detail")
    clock.now = 9.0
    assert not outages.may_send("graph") and outages.until_probe({"graph"}) == 1.0
    assert outages.until_probe({"graph", "detail"}) == 0.0  # a detail may go now
    clock.now = 10.0
    assert outages.may_send("graph")  # the probe, and only it
    assert not outages.may_send("graph") and outages.until_probe({"graph"}) == 10.0
    assert outages.refused("graph", "a", its_own=True) and outages.down_for("graph") == 10.0
    outages.answered("graph")  # a graph served (or a 404): no longer down
    assert outages.down_for("graph") is None and outages.may_send("graph")


def test_one_resource_refused_again_and_again_is_not_its_kind_down() -> None:
    outages = Outages(trip=4, probe_every=10.0, clock=Clock())
    for _ in range(20):
        outages.answered("detail")
        assert not outages.refused("graph", "broken", its_own=True)
    assert not outages.refused("graph", "other", its_own=True)
    assert not outages.refuses_many("graph")  # each may be failing alone
    assert outages.refused("graph", "third", its_own=True)  # three resources: the kind
    assert outages.refuses_many("graph")


def test_an_api_refusing_every_kind_alike_has_no_kind_down() -> None:
    outages = Outages(trip=4, probe_every=10.0, clock=Clock())
    # Overload: the others are refused a quarter as often as they are served, or more.
    for i in range(20):
        assert not outages.refused("graph", str(i), its_own=True)
        for _ in range(4):
            outages.answered("detail")
        outages.refused("detail", str(i), its_own=True)
    # Refusals that say when to come back (429, Retry-After) are the API's load, never a kind's.
    for i in range(20):
        outages.answered("detail")
        assert not outages.refused("ride", str(i), its_own=False)
    # A graph served breaks the run of refusals: four in a row are needed again.
    outages.answered("graph")
    for key in "abc":
        assert not outages.refused("graph", key, its_own=True)
        outages.answered("detail")
    outages.answered("graph")
    assert not outages.refused("graph", "d", its_own=True)
    assert outages.down_for("graph") is None and outages.down_for("ride") is None


def test_a_kind_is_down_only_while_the_others_are_answered() -> None:
    outages = Outages(trip=4, probe_every=10.0, clock=Clock())
    for _ in range(8):
        outages.answered("detail")
    assert [outages.refused("graph", key, its_own=True) for key in "abcd"] == [False] * 3 + [True]
    # A second kind goes down too: the first one's refusals do not hide that the rest is served.
    assert [outages.refused("ride", key, its_own=True) for key in "abcd"] == [False] * 3 + [True]
    # Then the API refuses the details as well (an overload begins): no kind is down.
    for key in "abcd":
        outages.refused("detail", key, its_own=False)
    assert outages.may_send("graph") and outages.may_send("ride")
    assert outages.down_for("graph") is None and outages.down_for("ride") is None


def test_answers_before_a_kinds_refusals_count_when_nothing_else_is_asked_for_meanwhile() -> None:
    # Every worker waits on a graph: the details were served before, none since.
    outages = Outages(trip=4, probe_every=10.0, clock=Clock())
    outages.answered("detail")
    assert not any(outages.refused("graph", k, its_own=True) for k in "abcd")  # 1 < trip / 2
