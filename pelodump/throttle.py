"""How fast the crawler may go: one shared rate limit, one shared cooldown, and retry backoff.

Invariants:
- Every request to the API passes `Throttle.slot()` first, so the limiter sees all of them.
- The limiter has a capacity of one request: in any window of W seconds at most rate × W + 1
  requests start. (`AsyncLimiter(rate, 1)` would let `rate` requests through at once.)
- A 429 or 503 from the server pauses every worker, not just the one that got it: each waits out the
  cooldown before taking a slot, and the limiter still spaces them out after it. (The crawler
  treats a 503 without Retry-After that a resource keeps getting, while the API answers most
  others, as that resource's error: see Crawler._failing_alone.)
- A kind of request that the API refuses every time while it serves the others is "down"
  (Outages): its requests are held back, save one probe now and then, instead of pausing
  everyone for each of them.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped in delay and in attempts."""

    max_attempts: int = 6  # per resource, for errors: timeouts, resets, 5xx, bad bodies
    max_cooldowns: int = 20  # per resource, for "slow down" answers (429, 503)
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 900.0  # never trust a Retry-After beyond 15 minutes
    outage_after: int = 8  # a kind's 503s in a row that can make it down (see Outages)
    outage_probe_every: float = 30.0  # while a kind is down, one request of it this often
    # How long a kind may stay down before the workouts waiting for it are given up: they are
    # tried again at each probe once everything else is done.
    outage_patience: float = 300.0

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The delay before retry number `attempt` (1-based): uniform in [0, base × 2^attempt]."""
        return rng() * min(self.max_delay, self.base_delay * 2**attempt)

    def cooldown(self, retry_after: float | None, attempt: int) -> float:
        if retry_after is None:
            return self.backoff(attempt) + self.base_delay
        return min(retry_after, self.max_retry_after)


class Throttle:
    """Shared by all workers of a crawl: rate limit, bound on requests in flight, and cooldown."""

    def __init__(
        self,
        rate: float,
        concurrency: int,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or concurrency < 1:
            raise ValueError("rate must be positive and concurrency at least 1")
        self.rate = rate
        self._limiter = AsyncLimiter(1, 1 / rate)
        self._in_flight = asyncio.Semaphore(concurrency)
        self._clock = clock or asyncio.get_running_loop().time
        self._sleep = sleep
        self._resume_at = 0.0

    def cool_down(self, seconds: float) -> None:
        """Pause every worker for `seconds` from now (a later deadline wins over an earlier one)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    async def _wait_out_cooldown(self) -> None:
        # Loop: another worker may extend the cooldown while this one sleeps.
        while (remaining := self._resume_at - self._clock()) > 0:
            await self._sleep(remaining)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the in-flight places and one tick of the rate limit for a request."""
        async with self._in_flight:
            while True:
                await self._wait_out_cooldown()
                await self._limiter.acquire()
                # A cooldown may have begun while this worker queued for the limiter.
                if self._resume_at <= self._clock():
                    break
            yield


_MANY = 3  # resources of a kind refused in a row that say more than one resource is broken


@dataclass
class _KindState:
    refused_in_a_row: int = 0
    refused_keys: set[str] = field(default_factory=set)  # the resources those refusals were for
    down_since: float | None = None
    next_probe: float = 0.0

    def looks_down(self, trip: int) -> bool:
        """Down, or refused as a kind that is down would be (whatever the others get)."""
        return self.down_since is not None or (
            self.refused_in_a_row >= trip and len(self.refused_keys) >= _MANY
        )


@dataclass
class Outages:
    """Kinds of request (names the caller gives) that the API refuses while it answers others.

    A kind is down after `trip` of its answers in a row, for at least three resources (one
    broken resource is not its kind), were refusals that may be its own (a 503 without
    Retry-After), while in their last 2 × trip answers each, the other kinds (save those that
    look down themselves) were answered more than four times as often as refused, and at least
    trip / 2 times. The answers before the kind's refusals count: while every worker waits on
    a request of the kind that is down, nothing else is asked for. An overloaded API refuses
    every kind alike: a kind stays down only while the others are answered, and then everyone
    waits as before. While a kind is down, `may_send` lets one probe of it out every
    `probe_every` seconds; any request of the kind answered ends the outage.
    """

    trip: int
    probe_every: float
    clock: Callable[[], float]
    _kinds: dict[str, _KindState] = field(init=False, default_factory=dict)
    # Each kind's latest answers (not errors): True when answered, False when refused. One
    # window per kind, so that a kind's refusals never push the others' answers out.
    _recent: dict[str, deque[bool]] = field(init=False, default_factory=dict)

    def answered(self, kind: str) -> None:
        """Count an answer that is not a refusal: 2xx, or a final 4xx such as a 404."""
        self._remember(kind, True)
        self._kinds[kind] = _KindState()

    def _remember(self, kind: str, answered: bool) -> None:
        self._recent.setdefault(kind, deque(maxlen=2 * self.trip)).append(answered)

    def refused(self, kind: str, key: str, *, its_own: bool) -> bool:
        """Count a slow-down answer (429, 503) to the request for `key`; `its_own` when it may
        be the kind's own failure rather than the API's load (a 503 without Retry-After).
        Returns whether the kind is down."""
        self._remember(kind, False)
        state = self._kinds.setdefault(kind, _KindState())
        if its_own:
            state.refused_in_a_row += 1
            state.refused_keys.add(key)
        if state.down_since is None and state.looks_down(self.trip) and self._others_answered(kind):
            state.down_since = self.clock()
            state.next_probe = state.down_since + self.probe_every
        return self._still_down(kind, state)

    def refuses_many(self, kind: str) -> bool:
        """Whether the kind's refusals in a row were for several resources: then none of them
        is failing alone, even before the kind is found down."""
        state = self._kinds.get(kind)
        return state is not None and len(state.refused_keys) >= _MANY

    def may_send(self, kind: str) -> bool:
        """Whether a request of this kind may be sent now: it is not down, or it is time for
        its next probe (which the caller's request then is)."""
        state = self._kinds.get(kind)
        if state is None or not self._still_down(kind, state):
            return True
        now = self.clock()
        if now < state.next_probe:
            return False
        state.next_probe = now + self.probe_every
        return True

    def down_for(self, kind: str) -> float | None:
        """Seconds since the kind went down, or None when it is not down."""
        state = self._kinds.get(kind)
        if state is None or state.down_since is None:
            return None
        return self.clock() - state.down_since

    def until_probe(self, kinds: set[str]) -> float:
        """Seconds until a request of one of these kinds may be sent (0 if one is not down)."""
        waits = [
            0.0 if (s := self._kinds.get(kind)) is None or s.down_since is None
            else s.next_probe - self.clock()
            for kind in kinds
        ]  # fmt: skip
        return max(0.0, min(waits, default=0.0))

    def _still_down(self, kind: str, state: _KindState) -> bool:
        if state.down_since is not None and not self._others_answered(kind):
            state.down_since = None  # the others are refused too: the API's load, not the kind
        return state.down_since is not None

    def _others_answered(self, kind: str) -> bool:
        # Kinds that look down are not "the others": two kinds down at once must not hide
        # each other.
        down = {k for k, s in self._kinds.items() if s.looks_down(self.trip)} | {kind}
        others = [ok for k, recent in self._recent.items() if k not in down for ok in recent]
        answered = sum(others)
        return (len(others) - answered) * 4 < answered and answered * 2 >= self.trip
