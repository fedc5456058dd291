"""Faults the simulated API can inject, on demand and reproducibly (seeded).

`Faults` holds the knobs; `FaultState` is one server's running state: its random generator, its
rate-limit bucket and its request count. Faults apply to API routes, and to the login routes only
with `apply_to_auth` (the login flow has its own rate limit in auth0.py).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from fnmatch import fnmatchcase

# What one request can suffer, in the order the probabilities are stacked.
ERROR_FAULTS = ("500", "502", "503")
BODY_FAULTS = ("reset", "truncate", "invalid_json")


@dataclass
class Faults:
    """Fault knobs. All off by default: a clean, fast API."""

    latency_ms: float = 0.0  # added to every request
    jitter_ms: float = 0.0  # plus a uniform random 0..jitter_ms
    rate_limit: float | None = None  # requests per second accepted; the excess gets 429
    rate_limited_paths: tuple[str, ...] = ()  # API paths (fnmatch) it applies to; () for all
    rate_limit_html: bool = False  # answer that 429 with Cloudflare's HTML error 1015 page
    p_500: float = 0.0  # probability of a 500 (JSON body)
    p_502: float = 0.0  # probability of a 502 (Cloudflare HTML page)
    p_503: float = 0.0  # probability of a 503 (Cloudflare HTML page)
    p_reset: float = 0.0  # write part of the body, then reset the connection
    p_truncate: float = 0.0  # Content-Length says more than is sent, then the connection closes
    p_invalid_json: float = 0.0  # status 200 with a body cut in half
    expire_tokens_every: int | None = None  # every N API requests, issued access tokens expire
    expire_tokens_after_s: float | None = None  # once, T seconds after the server started
    new_workout_every: int | None = None  # every N API requests, a new workout appears on top
    apply_to_auth: bool = False  # latency, rate limit and errors also on the login routes
    down_paths: tuple[str, ...] = ()  # API paths (fnmatch patterns) answered 503 every time
    seed: int = 0  # the fault dice; the same seed and request order give the same faults

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be a probability between 0 and 1, not {value}")
            if f.name in ("latency_ms", "jitter_ms") and (value < 0 or not math.isfinite(value)):
                raise ValueError(f"{f.name} must be a finite number of milliseconds >= 0")
            every = f.name in ("expire_tokens_every", "new_workout_every")
            if every and value is not None and value < 1:
                raise ValueError(f"{f.name} must be at least 1 request")
        if self.rate_limit is not None and not (
            self.rate_limit > 0 and math.isfinite(self.rate_limit)
        ):
            raise ValueError("rate_limit must be a positive number of requests per second")
        if self.expire_tokens_after_s is not None and self.expire_tokens_after_s < 0:
            raise ValueError("expire_tokens_after_s must be >= 0")
        total = sum(getattr(self, f"p_{name}") for name in (*ERROR_FAULTS, *BODY_FAULTS))
        if total > 1.0 + 1e-9:
            raise ValueError(f"the fault probabilities add up to {total:.3f}, more than 1")

    def is_down(self, path: str) -> bool:
        """Whether an API path is one that never recovers (`down_paths`)."""
        return any(fnmatchcase(path, pattern) for pattern in self.down_paths)

    def is_rate_limited(self, path: str) -> bool:
        """Whether `rate_limit` applies to a path (`rate_limited_paths`, or every path)."""
        patterns = self.rate_limited_paths
        return not patterns or any(fnmatchcase(path, pattern) for pattern in patterns)


@dataclass
class Decision:
    """What happens to one request."""

    delay_s: float
    fault: str | None  # one of ERROR_FAULTS or BODY_FAULTS, or None
    retry_after_s: int | None  # set when the rate limit refuses the request
    expire_tokens: bool
    add_workout: bool


class FaultState:
    """The running fault machinery of one server."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = faults
        self.clock = clock
        self.random = random.Random(faults.seed)
        self.requests = 0
        self.started = clock()
        self._expired_after_s = False
        rate = faults.rate_limit
        self._capacity = max(1.0, rate) if rate else 0.0
        self._tokens = self._capacity
        self._refilled = self.started

    def decide(self, *, api: bool, path: str = "") -> Decision:
        """Roll the dice for one arriving request (login routes: only if `apply_to_auth`)."""
        f = self.faults
        if not api and not f.apply_to_auth:
            return Decision(0.0, None, None, False, False)
        roll = self.random.random()
        delay = (f.latency_ms + self.random.random() * f.jitter_ms) / 1000
        fault = None
        edge = 0.0
        for name in (*ERROR_FAULTS, *BODY_FAULTS):
            edge += getattr(f, f"p_{name}")
            if roll < edge:
                fault = name
                break
        expire = add = False
        if api:
            self.requests += 1
            n = self.requests
            expire = bool(f.expire_tokens_every and n % f.expire_tokens_every == 0)
            after = f.expire_tokens_after_s
            if after is not None and not self._expired_after_s:
                self._expired_after_s = self.clock() - self.started >= after
                expire = expire or self._expired_after_s
            add = bool(f.new_workout_every and n % f.new_workout_every == 0)
        wait = self._take_token() if f.is_rate_limited(path) else None
        return Decision(delay, fault, wait, expire, add)

    def _take_token(self) -> int | None:
        """Token bucket: None if the request may pass, else the seconds to wait (Retry-After)."""
        rate = self.faults.rate_limit
        if not rate:
            return None
        now = self.clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self._tokens) / rate))


def cloudflare_1015_page(host: str) -> str:
    """The HTML Cloudflare answers when it rate-limits a client (error 1015): no Retry-After."""
    return f"""<!DOCTYPE html>
<html><head>
<title>Access denied | {host} used Cloudflare to restrict access</title>
</head>
<body><div id="cf-wrapper"><div id="cf-error-details">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1015</span></h1>
<h2 class="cf-subheadline">You are being rate limited</h2>
<p>The owner of this website ({host}) has banned you temporarily from accessing this
website.</p></div></div></body></html>
"""
