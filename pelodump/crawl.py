"""What to fetch and in what order: the member, their workout pages, then each workout's detail,
performance graph and class, streamed into concurrent workers under one rate limit.

Resuming and incremental runs rest on two facts kept in the archive:
- Every workout listed on any archived page is known, so work listed by a killed run is picked up
  by the next one without listing it again.
- A page walk that reaches the end of the history, or an earlier walk's mark, labels the page it
  stopped at with `listed_through`: the creation time up to which every workout has been listed.
  A later walk stops at the first page reaching that mark (that page is the overlap), unless --full.
A workout is done when its detail was captured with status COMPLETE, its graph was captured
while it was COMPLETE, and its class (if any) has answered; anything less is fetched again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import orjson

from pelodump import api
from pelodump.archive import Archive, InvalidBody, RunWriter, check_body, open_archive
from pelodump.auth import TokenSource
from pelodump.errors import EXIT_OK, EXIT_PROBLEMS, PelodumpError
from pelodump.progress import CrawlStats, show_progress
from pelodump.throttle import Outages, RetryPolicy, Throttle

Labeller = Callable[[Any], dict[str, Any]]
log = logging.getLogger(__name__)


# A day: a graph point every N seconds for any N beyond is one point per workout anyway.
MAX_EVERY_N = 86_400


@dataclass(frozen=True)
class CrawlOptions:
    api_url: str = api.API_URL
    rate: float = 4.0
    concurrency: int = 8
    every_n: int = 1
    full: bool = False
    history_csv: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def validate(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):  # aiolimiter needs a period
            raise PelodumpError("--rate must be a positive number of requests per second")
        if self.concurrency < 1:
            raise PelodumpError("--concurrency must be at least 1")
        if not 0 <= self.every_n <= MAX_EVERY_N:
            raise PelodumpError(f"--every-n must be 0 to {MAX_EVERY_N:,} seconds")
        api.check_http_url("--api-url", self.api_url)

    def for_the_record(self) -> dict[str, Any]:
        """The options as the run log keeps them: no secrets ever pass through here."""
        return {
            "command": "fetch",
            "api_url": self.api_url,
            "rate": self.rate,
            "concurrency": self.concurrency,
            "every_n": self.every_n,
            "full": self.full,
            "history_csv": self.history_csv,
        }


@dataclass(frozen=True, slots=True)
class Fetched:
    """A whole, valid answer, archived; `data` is the parsed JSON (None for text bodies)."""

    data: Any


@dataclass(frozen=True, slots=True)
class Listed:
    """A workout as a page lists it: enough to decide whether it needs fetching."""

    workout_id: str
    created_at: int | None
    ride_id: str | None


class KindDown(Exception):
    """Requests not sent, or refused, because their whole kind is down (see Outages): the
    workout they belong to is put aside and tried again at the end of the crawl."""

    def __init__(self, requests: list[api.Request]) -> None:
        super().__init__(*(f"{r.kind} {r.key}" for r in requests))
        self.requests = requests


class Crawler:
    def __init__(
        self,
        run: RunWriter,
        session: aiohttp.ClientSession,
        tokens: TokenSource,
        options: CrawlOptions,
        stats: CrawlStats,
    ) -> None:
        self.run = run
        self.archive: Archive = run.archive
        self.session = session
        self.tokens = tokens
        self.options = options
        self.stats = stats
        self.throttle = Throttle(options.rate, options.concurrency)
        self.outages = Outages(
            options.retry.outage_after,
            options.retry.outage_probe_every,
            asyncio.get_running_loop().time,
        )
        # Workouts put aside while a kind of request they need was down, with those requests.
        self._parked: list[tuple[Listed, list[api.Request]]] = []
        self._retrying = False  # whether the workers work on workouts put aside
        self._seen_workouts: set[str] = set()
        self._claimed_rides: set[str] = set()
        self._answered = False  # whether the API has answered anything yet
        self._newest_served = 0  # the number of the latest request (see fetch) answered 2xx
        self._slowdowns = 0  # 429 and 503 answers so far
        self._served = 0  # 2xx answers so far
        # The pages earlier runs archived, read from the logs once: for the mark and the leftovers.
        self._archived_pages = list(self.archive.captures_of_kind("workouts_page"))

    # -- one resource ----------------------------------------------------------------------------

    async def fetch(
        self,
        request: api.Request,
        *,
        text: bool = False,
        labels: Labeller | None = None,
        missing_ok: bool = False,
        later_ok: bool = False,
    ) -> Fetched | None:
        """Fetch one resource until it is archived whole, or give up and list it as failed.

        Every attempt is recorded. Slow-down answers (429, 503) pause all workers; errors
        (transport, 5xx, bodies that are cut short or not JSON) are retried with backoff; a 401 gets
        one token refresh; other 4xx are final (a 404 with missing_ok is not a failure).

        A repeated 503 without Retry-After is an error of this resource alone when the API is
        evidently answering the others (see _failing_alone) and no more than two resources of
        its kind are being refused (Outages.refuses_many): pausing everyone up to
        max_cooldowns times for a resource that keeps failing cost minutes. When nothing sent
        since its last refusal has been served (nobody else is at work: the end of a crawl, a
        later run with only it to fetch), the API is asked for /api/me to tell. A 429, or any
        answer with a Retry-After, always pauses everyone. With `later_ok`, a resource whose
        whole kind is down (see Outages) raises KindDown instead of pausing anyone: pausing
        everyone for each graph while every graph is refused cost hours.
        """
        policy = self.options.retry
        attempts = errors = cooldowns = refreshes = 0
        # At this resource's last slow-down answer: its request's number, _served, _slowdowns.
        refused: tuple[int, int, int] | None = None
        while True:
            if later_ok and not self.outages.may_send(request.kind):
                raise KindDown([request])
            await self.tokens.access_token()  # refreshed here, outside the slot, when due
            number, token, answer = await self._send(request)
            attempts += 1
            if isinstance(answer, api.TransportError):
                await self._save(request, answer, error=answer.reason)
                if answer.unreachable and not self._answered:
                    # Nothing ever answered: a wrong --api-url or no network, not a blip worth
                    # minutes of backoff before saying so.
                    raise PelodumpError(
                        f"cannot reach the API at {self.options.api_url} ({answer.reason})"
                    )
                errors += 1
                verdict = "error"
            else:
                self._answered = True
                verdict, data, error = self._judge(answer, text=text)
                kind_down = False
                if verdict == "slow down":
                    self._slowdowns += 1
                    its_own = answer.status == 503 and answer.retry_after is None
                    down = self.outages.refused(request.kind, request.key, its_own=its_own)
                    # A 429 or a Retry-After still pauses everyone: the API's load, not the kind.
                    kind_down = later_ok and its_own and down
                    last, refused = refused, (number, self._served, self._slowdowns)
                    may_be_alone = (
                        its_own
                        and last is not None
                        and not kind_down
                        and not self.outages.refuses_many(request.kind)
                    )
                    if may_be_alone and last is not None and self._newest_served <= last[0]:
                        # Nothing asked for since its last refusal has been served: nobody else
                        # is at work to show whether the API answers. Ask it something else.
                        await self._probe()
                    alone = may_be_alone and last is not None and self._failing_alone(*last)
                    if kind_down or alone:
                        verdict = "error"
                    else:
                        # Taken as a wait (once a probe above, if any, was answered): none may
                        # begin a request from now on, so before the save lets others run.
                        cooldowns += 1
                        self.stats.pauses += 1
                        self.throttle.cool_down(policy.cooldown(answer.retry_after, cooldowns))
                keep = answer.body if error is None else None  # whole and valid: worth keeping
                if verdict == "ok":
                    self._count_served(number)
                    self.outages.answered(request.kind)
                    await self._save(
                        request, answer, body=keep, labels=labels(data) if labels else None
                    )
                    return Fetched(data)
                error = error or f"HTTP {answer.status}"
                await self._save(request, answer, body=keep, error=error)
                if kind_down:
                    raise KindDown([request])
                if verdict == "final":
                    self.outages.answered(request.kind)
                    if not (missing_ok and answer.status == 404):
                        self._fail(request, f"HTTP {answer.status}")
                    return None
                if verdict == "refresh":
                    refreshes += 1
                    if refreshes > 2:
                        self._fail(request, "HTTP 401 even after refreshing the token")
                        return None
                    await self.tokens.refresh_after_rejection(token)
                    continue
                if verdict == "slow down":
                    if cooldowns > policy.max_cooldowns:
                        self._fail(request, f"still HTTP {answer.status} after {cooldowns} waits")
                        return None
                    self.stats.retries += 1
                    continue
                errors += 1
            if errors >= policy.max_attempts:
                reason = answer.reason if isinstance(answer, api.TransportError) else error
                self._fail(request, f"{reason}; gave up after {attempts} attempts")
                return None
            self.stats.retries += 1
            await asyncio.sleep(policy.backoff(errors))

    async def _send(self, request: api.Request) -> tuple[int, str, api.Answer | api.TransportError]:
        """One request through the throttle: its number (requests are numbered in the order
        they leave), the token it carried, and its answer or transport failure."""
        async with self.throttle.slot():
            # The token as the request leaves: while this worker waited for its turn, another
            # may have replaced a token the API rejected. Read before the wait, a request could
            # go out with a token already known to be dead, and a fetch that met three such
            # 401s gave up.
            token = self.tokens.current_access_token
            self.stats.count_request()
            number = self.stats.requests
            try:
                answer = await api.send(self.session, self.options.api_url, request, token)
            except api.TransportError as failure:
                return number, token, failure
        return number, token, answer

    def _count_served(self, number: int) -> None:
        """Count a 2xx answer to request `number` (for _failing_alone)."""
        self._newest_served = max(self._newest_served, number)
        self._served += 1

    async def _probe(self) -> None:
        """Ask for the member's profile, the cheapest question there is, and count its answer
        in the tallies _failing_alone reads (served, refused). Recorded as every request is.
        An answer that is not served leaves the refused resource's pause to its fetch (the one
        pause counted); a Retry-After on it is honoured by everyone. A 401 is not served either:
        the token is refreshed when a request of the crawl itself meets it."""
        request = api.me()
        number, _, answer = await self._send(request)
        if isinstance(answer, api.TransportError):
            await self._save(request, answer, error=answer.reason)
            return
        verdict, _, error = self._judge(answer, text=False)
        if verdict == "ok":
            self._count_served(number)
        elif verdict == "slow down":
            self._slowdowns += 1
            if answer.retry_after is not None:
                self.throttle.cool_down(self.options.retry.cooldown(answer.retry_after, 1))
        keep = answer.body if error is None else None
        if verdict != "ok":
            error = error or f"HTTP {answer.status}"
        await self._save(request, answer, body=keep, error=error)

    def _failing_alone(self, number: int, served: int, slowdowns: int) -> bool:
        """Whether a resource's repeated slow-down answer is its own failure: since its last one
        (to request `number`, when the counters stood at `served` and `slowdowns`), a request
        sent after it was served, and the API refused others less than a quarter as often as
        it served them (an API shedding load refuses more)."""
        others_refused = self._slowdowns - slowdowns - 1
        return self._newest_served > number and others_refused * 4 < self._served - served

    @staticmethod
    def _judge(answer: api.Answer, *, text: bool) -> tuple[str, Any, str | None]:
        """Sort an answer into ok, final, refresh, slow down or error; parse it when whole."""
        status = answer.status
        if 200 <= status < 300:
            if text:
                try:
                    check_body(answer.body, answer.content_type or "text/plain")
                except InvalidBody as bad:
                    return "error", None, str(bad)
                return "ok", None, None
            try:
                return "ok", orjson.loads(answer.body), None
            except orjson.JSONDecodeError:
                return "error", None, f"HTTP {status} with a body that is not JSON"
        error = None
        try:
            orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            error = f"HTTP {status} with a body that is not JSON"
        if status == 401:
            return "refresh", None, error
        if status in (429, 503):
            return "slow down", None, error
        if status >= 500:
            return "error", None, error
        return "final", None, error

    async def _save(
        self,
        request: api.Request,
        outcome: api.Answer | api.TransportError,
        *,
        body: bytes | None = None,
        error: str | None = None,
        labels: dict[str, Any] | None = None,
    ) -> None:
        answer = outcome if isinstance(outcome, api.Answer) else None
        await asyncio.to_thread(
            self.run.save_capture,
            kind=request.kind,
            key=request.key,
            method="GET",
            path=request.path,
            query=request.query,
            status=answer.status if answer else None,
            elapsed_ms=outcome.elapsed_ms,
            body=body,
            content_type=answer.content_type if answer else None,
            error=error,
            started_at=outcome.started_at,
            labels=labels,
        )

    def _fail(self, request: api.Request, reason: str) -> None:
        self.stats.failures.append(f"{request.kind} {request.key}: {reason}")

    # -- the plan ---------------------------------------------------------------------------------

    async def crawl(self) -> None:
        me = await self.fetch(api.me())
        if me is None or not isinstance(me.data, dict) or not api.is_peloton_id(me.data.get("id")):
            # The failure, if any, is the one listed for /api/me: "me me: HTTP 400" says it twice.
            why = self.stats.failures[-1].removeprefix("me me: ") if me is None else "no user id"
            raise PelodumpError(f"cannot read the member's profile from /api/me: {why}")
        user_id: str = me.data["id"]
        queue: asyncio.Queue[Listed | None] = asyncio.Queue(maxsize=2 * self.options.concurrency)
        await self._run_workers(queue, self._list_all(user_id, queue))
        await self._retry_parked()

    async def _run_workers(
        self, queue: asyncio.Queue[Listed | None], lister: Coroutine[Any, Any, None]
    ) -> None:
        """The workers, taking workouts from the queue until each is handed a None by `lister`."""
        # A task group: if a worker dies (a refresh refused, the disk full), the others and the
        # lister are cancelled at once, instead of the lister waiting forever on a full queue.
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.options.concurrency):
                    group.create_task(self._work(queue))
                group.create_task(lister)
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None

    async def _retry_parked(self) -> None:
        """Try the workouts put aside while a kind was down again, at each of its probes, until
        nothing is left or every kind they wait for has been down for outage_patience."""
        patience = self.options.retry.outage_patience
        while self._parked:
            kinds = {request.kind for _, requests in self._parked for request in requests}
            down_for = {kind: self.outages.down_for(kind) or 0.0 for kind in kinds}
            if all(seconds >= patience for seconds in down_for.values()):
                self._fail_parked(down_for)
                return
            await asyncio.sleep(self.outages.until_probe(kinds))
            # With each probe, a request of another kind: that the API still answers others is
            # what tells a kind that is down from an API that refuses everyone (see Outages).
            await self.fetch(api.me())
            parked, self._parked = self._parked, []
            queue: asyncio.Queue[Listed | None] = asyncio.Queue()
            for item, _ in parked:
                queue.put_nowait(item)
            self._retrying = True
            await self._run_workers(queue, self._stop_workers(queue))
            self._retrying = False
            self.stats.put_aside = Counter(requests[0].kind for _, requests in self._parked)

    def _fail_parked(self, down_for: dict[str, float]) -> None:
        """List each request the workouts put aside still wait for as failed, once."""
        again = "run fetch --full again later" if self.options.full else "run fetch again later"
        waiting = {(r.kind, r.key): r for _, requests in self._parked for r in requests}
        for request in waiting.values():
            self._fail(
                request,
                f"not fetched: the API refused every {request.kind} (HTTP 503) for "
                f"{down_for[request.kind]:.0f} s while it answered other requests; {again}",
            )
        self._parked = []
        self.stats.put_aside.clear()

    async def _stop_workers(self, queue: asyncio.Queue[Listed | None]) -> None:
        for _ in range(self.options.concurrency):
            await queue.put(None)

    async def _list_all(self, user_id: str, queue: asyncio.Queue[Listed | None]) -> None:
        """Hand every workout that needs work to the workers, then tell them to stop."""
        newest, timezone = await self._list_workouts(user_id, queue)
        await self._queue_known_unfinished(queue)
        if self.options.history_csv and self._history_may_have_changed(user_id):
            await self.fetch(api.history_csv(user_id, timezone or "UTC"), text=True)
        # Workouts that started while we worked are above `newest`: when the workers are idle,
        # look at the top again, until a look finds nothing new (one page each time).
        while newest is not None:
            await queue.join()
            listed = self.stats.workouts_listed
            walked = await self._walk(user_id, queue, stop_at=newest, label=False)
            if walked is None or self.stats.workouts_listed == listed:
                break
            newest = walked[0]
        await self._stop_workers(queue)

    async def _list_workouts(
        self, user_id: str, queue: asyncio.Queue[Listed | None]
    ) -> tuple[int | None, str | None]:
        """Walk the pages, newest first, handing each workout that needs work to the workers.

        Returns the newest creation time listed and one of the member's timezones (for the CSV).
        """
        mark = None if self.options.full else self._listed_through()
        walked = await self._walk(user_id, queue, stop_at=mark, label=True)
        return walked if walked is not None else (None, None)

    async def _walk(
        self, user_id: str, queue: asyncio.Queue[Listed | None], *, stop_at: int | None, label: bool
    ) -> tuple[int | None, str | None] | None:
        """One walk from page 0 to the end, or to the first page reaching `stop_at` (inclusive).

        With `label`, the page that ends the walk is labelled `listed_through` the newest creation
        time on page 0. Returns that time and a timezone, or None when a page could not be fetched
        (the walk then proves nothing, and labels nothing).
        """
        newest: int | None = None
        timezone: str | None = None
        page = 0
        while True:

            def labeller(body: Any, newest: int | None = newest) -> dict[str, Any]:
                times = _created_times(_page_items(body))
                if not label or not _page_ends_walk(body, times, stop_at):
                    return {}
                top = newest if newest is not None else max(times, default=None)
                return {} if top is None else {"listed_through": top}

            fetched = await self.fetch(api.workouts_page(user_id, page), labels=labeller)
            if fetched is None:
                return None
            self.stats.pages += 1
            items = _page_items(fetched.data)
            times = _created_times(items)
            if page == 0:
                newest = max(times, default=None)
            timezone = timezone or _a_timezone(fetched.data)
            await self._hand_out(items, queue)
            if _page_ends_walk(fetched.data, times, stop_at):
                return newest, timezone
            page += 1

    async def _hand_out(self, items: list[Listed], queue: asyncio.Queue[Listed | None]) -> None:
        for item in items:
            if item.workout_id in self._seen_workouts:
                continue  # pages shift while we walk: the same workout can come twice
            self._seen_workouts.add(item.workout_id)
            self.stats.workouts_listed += 1
            if not self.options.full and self._is_done(item):
                self.stats.skipped += 1
                continue
            await queue.put(item)

    async def _queue_known_unfinished(self, queue: asyncio.Queue[Listed | None]) -> None:
        """Queue workouts that earlier runs listed but did not finish (killed, or failed).

        Only pages from the last complete run on are read: a complete run finished everything
        listed before it, except workouts in progress at the time, which its own pages list.
        """
        if self.options.full:
            return
        complete = [r.run for r in self.archive.runs.values() if r.outcome == "complete"]
        since = max(complete, default="")
        seen_blobs: set[str] = set()
        for capture in self._archived_pages:
            if capture.run < since or capture.blob is None or capture.blob in seen_blobs:
                continue
            seen_blobs.add(capture.blob)
            try:
                body = orjson.loads(self.archive.read_blob(capture.blob))
            except (OSError, ValueError) as error:  # damaged or missing: the walk lists anew
                log.warning(
                    "passing over the archived workouts page %s (%s); run 'pelodump verify'",
                    capture.key,
                    error,
                )
                continue
            await self._hand_out(_page_items(body), queue)

    def _history_may_have_changed(self, user_id: str) -> bool:
        """Whether the history CSV (a line per workout) is worth asking for again: not when an
        earlier run has it and this one, walking the pages, found no workout to fetch."""
        if self.options.full or self.stats.workouts_listed > self.stats.skipped:
            return True
        return self.archive.latest("history_csv", user_id) is None

    def _listed_through(self) -> int | None:
        marks = [
            c.labels["listed_through"]
            for c in self._archived_pages
            if isinstance(c.labels.get("listed_through"), int)
        ]
        return max(marks, default=None)

    def _is_done(self, item: Listed) -> bool:
        # The class counts too: a run killed after a workout's graph but before its class, or one
        # that gave up on the class, leaves it to the next run, which must look at the workout.
        detail = self.archive.latest("workout", item.workout_id)
        graph = self.archive.latest("performance_graph", item.workout_id)
        return (
            detail is not None
            and detail.labels.get("status") == "COMPLETE"
            and graph is not None
            and graph.labels.get("workout_status") == "COMPLETE"
            and self._ride_settled(item.ride_id)
        )

    def _ride_settled(self, ride_id: str | None) -> bool:
        """True when there is no class to fetch, or its details were answered (200, or 404)."""
        if ride_id is None or ride_id == api.JUST_RIDE_ID:
            return True
        answered = self.archive.latest("ride_details", ride_id, ok_only=False)
        return answered is not None and answered.status in (200, 404)

    # -- one workout ------------------------------------------------------------------------------

    async def _work(self, queue: asyncio.Queue[Listed | None]) -> None:
        while (item := await queue.get()) is not None:
            try:
                await self._save_workout(item)
            except KindDown as down:
                self._parked.append((item, down.requests))
                if not self._retrying:  # else counted already, until the round ends
                    self.stats.put_aside[down.requests[0].kind] += 1
            finally:
                queue.task_done()

    async def _save_workout(self, item: Listed) -> None:
        """Fetch what the workout lacks: its detail, then its graph and its class. Raises
        KindDown (after trying the others) with those that could not be asked for now."""
        workout_id = item.workout_id
        detail = self.archive.latest("workout", workout_id)
        status = detail.labels.get("status") if detail else None
        ride_id = item.ride_id
        if self._wanted("workout", workout_id, stale=status != "COMPLETE"):
            fetched = await self.fetch(
                api.workout(workout_id), labels=_workout_labels, later_ok=True
            )
            if fetched is None:
                return
            self.stats.workouts += 1
            status = _workout_labels(fetched.data).get("status")
            ride_id = _ride_id(fetched.data) or ride_id
        down: list[api.Request] = []
        graph = self.archive.latest("performance_graph", workout_id)
        stale = graph is None or graph.labels.get("workout_status") != "COMPLETE"
        if self._wanted("performance_graph", workout_id, stale=stale):
            try:
                fetched = await self.fetch(
                    api.performance_graph(workout_id, self.options.every_n),
                    labels=lambda _body: {"workout_status": status},
                    later_ok=True,
                )
            except KindDown as graph_down:
                down += graph_down.requests
            else:
                self.stats.graphs += fetched is not None
        if ride_id and ride_id != api.JUST_RIDE_ID and ride_id not in self._claimed_rides:
            self._claimed_rides.add(ride_id)
            if self._wanted("ride_details", ride_id, stale=not self._ride_settled(ride_id)):
                try:
                    if await self.fetch(api.ride_details(ride_id), missing_ok=True, later_ok=True):
                        self.stats.rides += 1
                except KindDown as ride_down:
                    self._claimed_rides.discard(ride_id)  # the workout asks again later
                    down += ride_down.requests
        if down:
            raise KindDown(down)

    def _wanted(self, kind: str, key: str, *, stale: bool) -> bool:
        """Whether to ask for a resource: stale (missing, or captured before the workout was
        complete) or --full, and not yet captured by this run (a workout put aside comes
        back)."""
        latest = self.archive.latest(kind, key)
        return (stale or self.options.full) and (latest is None or latest.run != self.run.run)


def _page_items(body: Any) -> list[Listed]:
    """The workouts a page lists; ids that are not Peloton ids are never used in a URL."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return []
    items = []
    for entry in body["data"]:
        if not isinstance(entry, dict):
            continue
        workout_id = entry.get("id")
        if not api.is_peloton_id(workout_id):
            continue
        created = entry.get("created_at")
        items.append(
            Listed(workout_id, created if isinstance(created, int) else None, _ride_id(entry))
        )
    return items


def _created_times(items: list[Listed]) -> list[int]:
    return [item.created_at for item in items if item.created_at is not None]


def _a_timezone(body: Any) -> str | None:
    for entry in body.get("data") or [] if isinstance(body, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("timezone"), str):
            return entry["timezone"]
    return None


def _page_ends_walk(body: Any, times: list[int], stop_at: int | None) -> bool:
    if not isinstance(body, dict) or not body.get("data") or not body.get("show_next"):
        return True
    return stop_at is not None and bool(times) and min(times) <= stop_at


def _ride_id(workout: Any) -> str | None:
    ride = workout.get("ride") if isinstance(workout, dict) else None
    ride_id = ride.get("id") if isinstance(ride, dict) else None
    return ride_id if api.is_peloton_id(ride_id) else None


def _workout_labels(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    start = body.get("start_time")
    return {"status": body.get("status"), "start_time": start if isinstance(start, int) else None}


# -- the command ----------------------------------------------------------------------------------


async def fetch_history(
    run: RunWriter,
    options: CrawlOptions,
    *,
    auth_url: str,
    token_file: Path | None = None,
    progress: TextIO | None = None,
    prompt: bool = True,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> CrawlStats:
    """Log in, crawl into `run`, and record how the run ended. `progress` is a stream for live
    progress, or None for quiet.

    `environ` and `cache_dir` default to the process's environment and the user's config dir.
    """
    stats = CrawlStats()
    timeout = aiohttp.ClientTimeout(total=120, sock_connect=15, sock_read=60)
    # The API session keeps no cookies: nothing but the bearer token identifies us to the API.
    async with (
        aiohttp.ClientSession(timeout=timeout) as auth_session,
        aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as session,
    ):
        tokens = await TokenSource.from_environment(
            auth_session,
            auth_url=auth_url,
            token_file=token_file,
            prompt=prompt,
            environ=environ,
            cache_dir=cache_dir,
        )
        crawler = Crawler(run, session, tokens, options, stats)
        shower = None
        if progress is not None:
            live = progress.isatty()
            shower = asyncio.create_task(show_progress(stats, progress, live=live))
        try:
            await crawler.crawl()
        finally:
            if shower is not None:
                shower.cancel()
    run.end("failed" if stats.failures else "complete", _counts(stats))
    return stats


def summary(stats: CrawlStats, run: RunWriter) -> str:
    counts = run.counts
    lines = [
        f"fetched {stats.workouts} workouts, {stats.graphs} graphs, {stats.rides} classes from "
        f"{stats.pages} pages ({stats.skipped} workouts already archived) in {stats.elapsed:.1f}s",
        f"{stats.requests} requests, {stats.retries} retries{_paused(stats)}, "
        f"{counts['new_blobs']} new blobs, "
        f"{counts['deduplicated']} unchanged bodies stored once, {len(stats.failures)} failed",
    ]
    if counts["repaired"]:
        lines.append(f"repaired {counts['repaired']} damaged blobs with the bodies fetched again")
    lines += [f"failed: {failure}" for failure in _grouped(stats.failures)]
    return "\n".join(lines)


def _grouped(failures: list[str]) -> list[str]:
    """Failures as the summary lists them: more than ten of one kind with the same reason (such
    as a kind that was down) in one line, with a few of their keys."""
    by_reason: dict[tuple[str, str], list[str]] = {}
    for failure in failures:  # "kind key: reason"
        resource, _, reason = failure.partition(": ")
        kind, _, key = resource.partition(" ")
        by_reason.setdefault((kind, reason), []).append(key)
    lines = []
    for (kind, reason), keys in by_reason.items():
        if len(keys) > 10:
            shown = ", ".join(keys[:3])
            lines.append(f"{kind} {shown} and {len(keys) - 3} more: {reason}")
        else:
            lines += [f"{kind} {key}: {reason}" for key in keys]
    return lines


def _paused(stats: CrawlStats) -> str:
    if not stats.pauses:
        return ""
    return f" (paused {stats.pauses} time{'s' * (stats.pauses > 1)} when told to slow down)"


def run_fetch_command(args: argparse.Namespace) -> int:
    options = CrawlOptions(
        api_url=args.api_url,
        rate=args.rate,
        concurrency=args.concurrency,
        every_n=args.every_n,
        full=args.full,
        history_csv=not args.no_csv,
    )
    options.validate()
    api.check_http_url("--auth-url", args.auth_url)
    archive = open_archive(args.archive, create=True)
    with archive.begin_run(options.for_the_record()) as run, _sigterm_as_ctrl_c():
        stats = asyncio.run(
            fetch_history(
                run,
                options,
                auth_url=args.auth_url,
                token_file=args.token_file,
                progress=None if args.quiet else sys.stderr,
            )
        )
    print(summary(stats, run))
    print(f"archive: {archive.root}  (next: pelodump build --archive {archive.root})")
    return EXIT_PROBLEMS if stats.failures else EXIT_OK


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (`timeout`, systemd, `kill`) stops the fetch as Ctrl-C does: requests in flight
    cancelled, the run recorded as interrupted, exit 130. Left as it was, it ended the process
    there and then, and the run log without its end. (Only the main thread can set it.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _counts(stats: CrawlStats) -> dict[str, Any]:
    return {
        "requests": stats.requests,
        "retries": stats.retries,
        "pages": stats.pages,
        "workouts": stats.workouts,
        "graphs": stats.graphs,
        "rides": stats.rides,
        "skipped": stats.skipped,
        "failed": len(stats.failures),
    }
