"""How fast the crawler may go: one shared rate limit, one shared cooldown, and retry backoff.

Invariants:
- Every request to the API passes `Throttle.slot()` first, so the limiter sees all of them.
- The limiter has a capacity of one request: in any window of W seconds at most rate × W + 1
  requests start. (`AsyncLimiter(rate, 1)` would let `rate` requests through at once.)
- A 429 or 503 from the server pauses every worker, not just the one that got it: each waits out the
  cooldown before taking a slot, and the limiter still spaces them out after it. (The crawler
  treats a 503 without Retry-After that a resource keeps getting, while the API answers most
  others, as that resource's error: see Crawler._failing_alone.)
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped in delay and in attempts."""

    max_attempts: int = 6  # per resource, for errors: timeouts, resets, 5xx, bad bodies
    max_cooldowns: int = 20  # per resource, for "slow down" answers (429, 503)
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 900.0  # never trust a Retry-After beyond 15 minutes

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
