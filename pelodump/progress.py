"""What a crawl shows while it runs: a live line on a terminal, plain lines in a log, or nothing."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class CrawlStats:
    """Counters of one crawl; the progress line and the closing summary read them."""

    requests: int = 0
    retries: int = 0
    pauses: int = 0  # every worker paused at once, for a 429 or 503
    pages: int = 0
    workouts_listed: int = 0
    workouts: int = 0  # workout details captured
    graphs: int = 0
    rides: int = 0
    skipped: int = 0  # workouts already archived complete
    # Workouts waiting, by the kind of request they wait for: the API refuses all of that kind.
    put_aside: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=512))

    def count_request(self) -> None:
        self.requests += 1
        self._recent.append(time.monotonic())

    def current_rate(self, window: float = 5.0) -> float:
        """Requests per second over the last few seconds."""
        now = time.monotonic()
        recent = sum(1 for t in self._recent if now - t <= window)
        return recent / min(window, max(now - self.started, 1e-3))

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def progress_line(stats: CrawlStats) -> str:
    return (
        f"pages {stats.pages}  workouts {stats.workouts + stats.skipped}/{stats.workouts_listed}  "
        f"graphs {stats.graphs}  rides {stats.rides}  retries {stats.retries}  "
        f"failed {len(stats.failures)}  {stats.current_rate():.1f} req/s  "
        f"{stats.elapsed:.0f}s"
        + "".join(f"  put aside {n} ({kind} refused)" for kind, n in stats.put_aside.items())
    )


async def show_progress(stats: CrawlStats, stream: TextIO, *, live: bool) -> None:
    """Until cancelled: redraw one line on a terminal, or print a line every 10 s to a log."""
    try:
        while True:
            await asyncio.sleep(0.25 if live else 10.0)
            if live:
                stream.write("\r\033[K" + progress_line(stats))
            else:
                stream.write(progress_line(stats) + "\n")
            stream.flush()
    finally:
        if live:
            stream.write("\r\033[K")
            stream.flush()
