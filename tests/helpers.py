"""What several test modules need: saving a capture by hand, and one crawl of a simulator."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import pytest
from yarl import URL  # aiohttp's own URL type

from pelodump.archive import Capture, RunWriter, open_archive
from pelodump.crawl import CrawlOptions, fetch_history
from pelodump.progress import CrawlStats
from pelodump.sim.server import Sim, most_in_any_window
from pelodump.throttle import RetryPolicy

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "peloton-samples"
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)


def save_capture(
    run: RunWriter, kind: str, key: str, body: bytes | dict[str, Any], **extra: Any
) -> Capture:
    """Archive a body as a successful GET of /api/<kind>/<key> would."""
    return run.save_capture(
        kind=kind,
        key=key,
        method="GET",
        path=f"/api/{kind}/{key}",
        query="",
        status=200,
        elapsed_ms=1.0,
        body=body if isinstance(body, bytes) else orjson.dumps(body),
        content_type="application/json",
        **extra,
    )


async def crawl_into(
    sim: Sim,
    root: Path,
    *,
    environ: dict[str, str] | None = None,
    cache_dir: Path | None = None,
    **options: Any,
) -> CrawlStats:
    """One crawl of the simulator into the archive at root, as a finished run.

    Logs in with a token from the simulator unless `environ` says otherwise; quick retries and a
    high rate unless `options` say otherwise.
    """
    settings = {"rate": 300.0, "concurrency": 8, "retry": FAST_RETRY, **options}
    crawl_options = CrawlOptions(api_url=sim.api_url, **settings)
    with open_archive(root, create=True).begin_run(crawl_options.for_the_record()) as run:
        stats = await fetch_history(
            run,
            crawl_options,
            auth_url=sim.auth_url,
            environ=environ if environ is not None else {"PELOTON_TOKEN": sim.access_token()},
            cache_dir=cache_dir or root.parent / "config",
            prompt=False,
        )
    return stats


class WireClock:
    """What the crawler did to one host, stamped on its own side by aiohttp's tracing: when each
    request began (`started`: the crawler begins one only once its throttle lets it, and nothing
    between the two waits), when its headers were written (`sent`: one per attempt, so a resend
    by aiohttp itself, which should never happen here, would show as one more than the API saw),
    and each answer that said to wait (`told_to_wait`: when its body was read, which is when the
    crawler can act on it, and the Retry-After in seconds).

    The simulator stamps arrivals only when its thread gets to run, which on a busy machine can be
    tens of milliseconds late, and two stamps late by different amounts look like a burst that was
    never sent. A write can wait as long for a new connection; a request's start waits for nothing.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
        self.host = URL(url).host_port_subcomponent
        self.started: list[float] = []
        self.sent: list[float] = []
        self.told_to_wait: list[tuple[float, float]] = []
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(self._stamp_into(self.started))
        trace.on_request_headers_sent.append(self._stamp_into(self.sent))
        trace.on_request_end.append(self._answered)
        trace.on_response_chunk_received.append(self._body_read)
        make_session = aiohttp.ClientSession

        def observed_session(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
            kwargs["trace_configs"] = [*(kwargs.get("trace_configs") or ()), trace]
            return make_session(*args, **kwargs)

        monkeypatch.setattr(aiohttp, "ClientSession", observed_session)

    def _stamp_into(self, times: list[float]) -> Callable[..., Awaitable[None]]:
        """A trace callback that stamps each request to our host into `times`."""

        async def stamp(_: aiohttp.ClientSession, __: SimpleNamespace, params: Any) -> None:
            if params.url.host_port_subcomponent == self.host:
                times.append(time.monotonic())

        return stamp

    async def _answered(
        self,
        _: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        retry_after = params.response.headers.get("Retry-After", "")
        if params.url.host_port_subcomponent == self.host and retry_after.isdigit():
            context.retry_after = float(retry_after)  # stamped once the body is read

    async def _body_read(
        self,
        _: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceResponseChunkReceivedParams,
    ) -> None:
        if (seconds := getattr(context, "retry_after", None)) is not None:
            self.told_to_wait.append((time.monotonic(), seconds))
            context.retry_after = None


# How late the simulator's stamp of an arrival may be on a loaded machine (measured: up to 40 ms
# with both cores busy). Its log is checked with this much slack; the crawler's starts with none.
LATE_STAMP_S = 0.1


def assert_within_rate(wire: WireClock, sim: Sim, rate: float, windows: tuple[float, ...]) -> None:
    """The crawler began at most rate × W + 1 requests in any window of W seconds, and the API
    saw exactly the requests it sent."""
    assert len(wire.sent) == len(sim.api_log())
    for window in windows:
        assert most_in_any_window(wire.started, window) <= rate * window + 1, window
        assert sim.max_requests_in_window(window) <= rate * (window + LATE_STAMP_S) + 1, window
