"""How close a crawl comes to its rate limit, and what it costs: `python bench/crawl.py`.

The simulator runs in a child process with a fixed latency per request, so its CPU is not the
crawler's. Each crawl runs in a fresh child process too, so its CPU time and peak RSS are its own:

1. pelodump at rate R and concurrency C on N workouts, --repeat times: wall time against the
   ideal bound (requests sent ÷ R), CPU seconds per 1,000 requests, peak RSS.
2. A one-request-at-a-time client as a walkthrough would write it (urllib, a plain loop:
   me, each page, and for each workout its detail then its graph) on the same N and latency.
3. Peak RSS of pelodump for N and for scale × N workouts, both at --memory-rate (by default so
   high that the two cores, not the limiter, set the pace): memory must stay flat.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import statistics
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: RSS and CPU are their own


# -- the simulator, in its own process ------------------------------------------------------------


def serve_sim(conn: Connection, workouts: int, latency_ms: float, seed: int) -> None:
    """Serve a member until told to stop; then report what the server saw."""
    from pelodump.sim.faults import Faults
    from pelodump.sim.server import run_sim

    async def serve() -> None:
        faults = Faults(latency_ms=latency_ms)
        async with run_sim(workouts=workouts, seed=seed, faults=faults) as sim:
            conn.send(
                {"api_url": sim.api_url, "auth_url": sim.auth_url, "token": sim.access_token()}
            )
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            log = sim.api_log()
            conn.send(
                {
                    "requests": len(log),
                    "not_200": sum(1 for r in log if r.status != 200),
                    "span_s": log[-1].time - log[0].time if log else 0.0,
                    "max_in_1s": sim.max_requests_in_window(1.0),
                }
            )

    asyncio.run(serve())


class SimProcess:
    """`with SimProcess(...) as sim:` a running simulator; `sim.seen` after the block."""

    def __init__(self, workouts: int, latency_ms: float, seed: int) -> None:
        self._conn, child = SPAWN.Pipe()
        self._process = SPAWN.Process(
            target=serve_sim, args=(child, workouts, latency_ms, seed), daemon=True
        )
        self.seen: dict[str, Any] = {}

    def __enter__(self) -> SimProcess:
        self._process.start()
        found = self._conn.recv()
        self.api_url: str = found["api_url"]
        self.auth_url: str = found["auth_url"]
        self.token: str = found["token"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self.seen = self._conn.recv()
        self._process.join(timeout=30)


# -- the crawlers, each in a fresh process --------------------------------------------------------


def crawl_with_pelodump(
    conn: Connection, sim: dict[str, str], rate: float, concurrency: int
) -> None:
    from pelodump.archive import open_archive
    from pelodump.crawl import CrawlOptions, fetch_history

    options = CrawlOptions(api_url=sim["api_url"], rate=rate, concurrency=concurrency)
    with tempfile.TemporaryDirectory(prefix="pelodump-bench-") as tmp:
        baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu, wall = time.process_time(), time.perf_counter()
        archive = open_archive(Path(tmp) / "archive", create=True)
        with archive.begin_run(options.for_the_record()) as run:
            stats = asyncio.run(
                fetch_history(
                    run,
                    options,
                    auth_url=sim["auth_url"],
                    environ={"PELOTON_TOKEN": sim["token"]},
                    cache_dir=Path(tmp) / "config",
                    prompt=False,
                )
            )
            run.end("failed" if stats.failures else "complete")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        conn.send(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "requests": stats.requests,
                "workouts": stats.workouts,
                "graphs": stats.graphs,
                "rides": stats.rides,
                "failures": len(stats.failures),
                "baseline_rss_mib": baseline_kib / 1024,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )


def crawl_sequentially(conn: Connection, sim: dict[str, str]) -> None:
    """The walkthrough's way: one request at a time, each body saved to a file."""
    headers = {
        "Authorization": f"Bearer {sim['token']}",
        "Peloton-Platform": "web",
        "Accept": "application/json",
    }
    requests = 0

    def get(path: str) -> bytes:
        nonlocal requests
        requests += 1
        request = urllib.request.Request(sim["api_url"] + path, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    with tempfile.TemporaryDirectory(prefix="pelodump-bench-seq-") as tmp:
        out = Path(tmp)
        cpu, wall = time.process_time(), time.perf_counter()
        user_id = json.loads(get("/api/me"))["id"]
        page, workouts = 0, 0
        while True:
            query = f"joins=ride,ride.instructor&limit=100&page={page}&sort_by=-created"
            body = get(f"/api/user/{user_id}/workouts?{query}")
            (out / f"page_{page}.json").write_bytes(body)
            listing = json.loads(body)
            for workout in listing["data"]:
                workout_id = workout["id"]
                detail = get(f"/api/workout/{workout_id}?joins=ride,ride.instructor")
                (out / f"{workout_id}.json").write_bytes(detail)
                graph = get(f"/api/workout/{workout_id}/performance_graph?every_n=1")
                (out / f"{workout_id}_graph.json").write_bytes(graph)
                workouts += 1
            if not listing["show_next"]:
                break
            page += 1
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.send({"wall_s": wall, "cpu_s": cpu, "requests": requests, "workouts": workouts})


def measure(crawler: Any, *args: Any) -> dict[str, Any]:
    conn, child = SPAWN.Pipe()
    process = SPAWN.Process(target=crawler, args=(child, *args))
    process.start()
    result = conn.recv()
    process.join()
    return result


def crawl_sim(
    crawler: Any, workouts: int, latency_ms: float, seed: int, *args: Any
) -> dict[str, Any]:
    """One crawl of a fresh simulator; the crawler's figures plus what the simulator saw."""
    with SimProcess(workouts, latency_ms, seed) as sim:
        urls = {"api_url": sim.api_url, "auth_url": sim.auth_url, "token": sim.token}
        result = measure(crawler, urls, *args)
    return {**result, "seen": sim.seen}


# -- the report -----------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {pages / 2**30:.0f} GiB RAM, "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}"
    )


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def describe_pelodump(label: str, r: dict[str, Any], rate: float) -> None:
    seen, sent = r["seen"], r["requests"]
    ideal = sent / rate
    print(
        f"{label}: {r['workouts']} workouts, {r['graphs']} graphs, {r['rides']} classes, "
        f"{r['failures']} failed   ({load()})\n"
        f"  requests           {sent} sent; the simulator logged {seen['requests']} "
        f"({seen['not_200']} not 200)\n"
        f"  wall time          {r['wall_s']:.2f} s   ideal {ideal:.2f} s (requests ÷ {rate:g}/s)"
        f"   ratio {r['wall_s'] / ideal:.3f}\n"
        f"  first→last arrival {seen['span_s']:.2f} s   most arriving in any 1 s: "
        f"{seen['max_in_1s']}\n"
        f"  client CPU         {r['cpu_s']:.2f} s = {1000 * r['cpu_s'] / sent:.2f} s per 1,000 "
        f"requests\n"
        f"  peak RSS           {r['peak_rss_mib']:.1f} MiB (after imports "
        f"{r['baseline_rss_mib']:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workouts", "-n", type=int, default=300, help="N (default 300)")
    parser.add_argument("--rate", "-r", type=float, default=50.0, help="R, requests/s (50)")
    parser.add_argument("--concurrency", "-c", type=int, default=16, help="C (16)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="per request (50)")
    parser.add_argument("--repeat", type=int, default=3, help="timed pelodump crawls (3)")
    parser.add_argument("--seed", type=int, default=1, help="the simulated member (1)")
    parser.add_argument("--memory-scale", type=int, default=10, help="the big crawl is this × N")
    parser.add_argument(
        "--memory-rate",
        type=float,
        default=1000.0,
        help="R for both memory crawls (1000: in effect unthrottled on 2 cores)",
    )
    parser.add_argument(
        "--memory-concurrency", type=int, default=32, help="C for both memory crawls (32)"
    )
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    n, latency, rate = args.workouts, args.latency_ms, args.rate
    print(f"machine: {machine()}")
    print(f"simulator: {n} workouts, {latency:g} ms per request, in its own process\n")

    runs = []
    for i in range(args.repeat):
        run = crawl_sim(crawl_with_pelodump, n, latency, args.seed, rate, args.concurrency)
        describe_pelodump(f"pelodump #{i + 1} (R={rate:g}/s, C={args.concurrency})", run, rate)
        runs.append(run)
    ratios = sorted(r["wall_s"] / (r["requests"] / rate) for r in runs)
    fast = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    print(
        f"wall time ÷ ideal bound: median {statistics.median(ratios):.3f}, "
        f"best {ratios[0]:.3f}, worst {ratios[-1]:.3f} (target ≤ 1.10)"
    )

    if not args.skip_sequential:
        slow = crawl_sim(crawl_sequentially, n, latency, args.seed)
        fast_rps, slow_rps = fast["requests"] / fast["wall_s"], slow["requests"] / slow["wall_s"]
        print(
            f"\nsequential client: {slow['workouts']} workouts, {slow['requests']} requests "
            f"(no classes, no CSV)   ({load()})\n"
            f"  wall time          {slow['wall_s']:.2f} s ({slow_rps:.1f} requests/s)\n"
            f"  client CPU         {slow['cpu_s']:.2f} s = "
            f"{1000 * slow['cpu_s'] / slow['requests']:.2f} s per 1,000 requests\n"
            f"speed-up of pelodump's median run: {slow['wall_s'] / fast['wall_s']:.2f}× in wall "
            f"time for the same {n} workouts; {fast_rps:.1f} vs {slow_rps:.1f} requests/s = "
            f"{fast_rps / slow_rps:.2f}×"
        )

    if not args.skip_memory:
        big = n * args.memory_scale
        rate, concurrency = args.memory_rate, args.memory_concurrency
        print(f"\nmemory: R={rate:g}/s, C={concurrency}, {latency:g} ms per request")
        small_run = crawl_sim(crawl_with_pelodump, n, latency, args.seed, rate, concurrency)
        describe_pelodump(f"pelodump, N={n}", small_run, rate)
        big_run = crawl_sim(crawl_with_pelodump, big, latency, args.seed, rate, concurrency)
        describe_pelodump(f"pelodump, N={big}", big_run, rate)
        small_mib, big_mib = small_run["peak_rss_mib"], big_run["peak_rss_mib"]
        print(
            f"peak RSS {small_mib:.1f} MiB for {n} workouts, {big_mib:.1f} MiB for {big}: "
            f"ratio {big_mib / small_mib:.2f}; {1024 * (big_mib - small_mib) / (big - n):.1f} KiB "
            f"more per extra workout"
        )


if __name__ == "__main__":
    main()
