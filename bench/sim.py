"""How fast the simulator makes its bodies: `python bench/sim.py`.

Start-up of big members (metadata only), one per-second 45-minute graph (generation and JSON),
a page of 100 workouts, the CSV export, and requests per second over loopback.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import aiohttp
import orjson

from pelodump.sim.member import GAPS, SPACING_5S, Member
from pelodump.sim.server import run_sim


def best_ms(action: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def main() -> None:
    for n in (3_000, 30_000):
        ms = best_ms(lambda n=n: Member(seed=1, workouts=n), 3)
        print(f"Member({n:>6} workouts) start-up:   {ms:6.1f} ms")
    member = Member(seed=1, workouts=3_000)
    for kind in ("cycling_class", "tread_run", "outdoor_run", "rowing"):
        plain = [m for m in member.newest(kind=kind) if not m.flags & (GAPS | SPACING_5S)]
        meta = max(plain, key=lambda m: member.context(m).seconds)
        minutes = member.context(meta).seconds // 60
        size = len(orjson.dumps(member.performance_graph(meta.id, 1)))
        ms = best_ms(lambda meta=meta: orjson.dumps(member.performance_graph(meta.id, 1)))
        print(f"{minutes}-min per-second graph, {kind:<13}: {ms:6.1f} ms  ({size / 1000:.0f} kB)")
    ms = best_ms(lambda: orjson.dumps(member.workouts_page(3, 100)))
    print(f"page of 100 workouts:          {ms:6.1f} ms")
    print(f"CSV export of 3,000 workouts:  {best_ms(member.history_csv, 3):6.1f} ms")
    asyncio.run(throughput())


async def throughput() -> None:
    async with run_sim(workouts=200) as sim, aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {sim.access_token()}"}
        ids = sim.member.workout_ids()

        async def one(i: int) -> None:
            async with session.get(
                f"{sim.api_url}/api/workout/{ids[i % len(ids)]}", headers=headers
            ) as r:
                await r.read()

        rates = []
        for _ in range(3):
            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(500)))
            rates.append(500 / (time.perf_counter() - started))
        print(f"GET /api/workout/{{id}} over loopback: {statistics.median(rates):6.0f} requests/s")


if __name__ == "__main__":
    main()
