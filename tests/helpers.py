"""What several test modules need: saving a capture by hand, and one crawl of a simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from pelodump.archive import Capture, RunWriter, open_archive
from pelodump.crawl import CrawlOptions, fetch_history
from pelodump.progress import CrawlStats
from pelodump.sim.server import Sim
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
