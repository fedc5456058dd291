"""The simulated API over loopback HTTP: paging, joins, graphs, the CSV, errors, units, numbers
that agree with each other, determinism, and a big member that costs little."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import itertools
import json
import tracemalloc
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest

from pelodump.sim.catalog import JUST_RIDE_ID
from pelodump.sim.member import GAPS, GYM, SPACING_5S, STOPPED_EARLY, ZERO_LENGTH, Member
from pelodump.sim.server import NOT_LOGGED_IN, Sim, run_sim, sim_in_thread

JOINS = "joins=ride,ride.instructor"
Get = Callable[..., Awaitable[tuple[int, dict[str, str], bytes]]]


def with_sim(test: Callable[[Sim, Get], Awaitable[None]], **options: Any) -> None:
    """Run `test(sim, get)` against a fresh simulator; `get(path, token=...)` answers
    (status, headers, raw body), with the member's token unless told otherwise."""

    async def main() -> None:
        async with run_sim(**options) as sim, aiohttp.ClientSession() as session:
            default = sim.access_token()

            async def get(path: str, token: str | None = default, method: str = "GET") -> tuple:
                headers = {"Peloton-Platform": "web"}
                if token is not None:
                    headers["Authorization"] = f"Bearer {token}"
                async with session.request(method, sim.api_url + path, headers=headers) as r:
                    return r.status, dict(r.headers), await r.read()

            await test(sim, get)

    asyncio.run(main())


def test_paging_walks_every_workout_newest_first_with_a_capped_limit() -> None:
    async def test(sim: Sim, get: Get) -> None:
        uid = sim.member.user_id
        seen: list[str] = []
        pages = []
        page = 0
        while True:
            status, headers, raw = await get(
                f"/api/user/{uid}/workouts?{JOINS}&limit=500&page={page}&sort_by=-created"
            )
            assert status == 200 and headers["Content-Type"] == "application/json"
            body = json.loads(raw)
            pages.append(body)
            assert body["limit"] == 100 and body["page"] == page
            assert body["sort_by"] == "-created_at,-pk"
            assert body["show_previous"] == (page > 0)
            seen += [w["id"] for w in body["data"]]
            if not body["show_next"]:
                break
            page += 1
        assert seen == sim.member.workout_ids() and len(seen) == 250
        assert [p["count"] for p in pages] == [100, 100, 50]
        assert all(p["total"] == 250 and p["page_count"] == 3 for p in pages)
        created = [w["created_at"] for p in pages for w in p["data"]]
        assert created == sorted(created, reverse=True)
        for current, following in itertools.pairwise(pages):
            first = following["data"][0]
            assert current["next"] == {"workout_id": first["id"], "created_at": first["created_at"]}
        assert pages[-1]["next"] is None
        _, _, raw = await get(f"/api/user/{uid}/workouts?limit=100&page=7")
        beyond = json.loads(raw)
        assert beyond["data"] == [] and beyond["show_next"] is False
        _, _, raw = await get(f"/api/user/{uid}/workouts?limit=7")
        assert json.loads(raw)["count"] == 7
        status, _, _ = await get(f"/api/user/{uid}/workouts?limit=lots")
        assert status == 400

    with_sim(test, workouts=250, seed=3)


def test_joins_decide_whether_ride_and_instructor_are_there() -> None:
    async def test(sim: Sim, get: Get) -> None:
        member = sim.member
        wid = member.newest(kind="cycling_class")[1].id
        both = json.loads((await get(f"/api/workout/{wid}?{JOINS}"))[2])
        ride_only = json.loads((await get(f"/api/workout/{wid}?joins=ride"))[2])
        bare = json.loads((await get(f"/api/workout/{wid}?joins="))[2])
        assert both["ride"]["instructor"]["id"] == both["ride"]["instructor_id"]
        assert "instructor" not in ride_only["ride"] and "ride" not in bare
        just_ride = member.newest(kind="just_ride")[0].id
        ride = json.loads((await get(f"/api/workout/{just_ride}?{JOINS}"))[2])["ride"]
        assert ride["id"] == JUST_RIDE_ID and ride["instructor"]["name"] == "JUST RIDE"

    with_sim(test, workouts=30)


def test_graph_spacing_follows_every_n_and_0_acts_as_1() -> None:
    async def test(sim: Sim, get: Get) -> None:
        member = sim.member
        plain = next(m for m in member.newest(kind="cycling_class", flags=1)
                     if not m.flags & (GAPS | SPACING_5S | STOPPED_EARLY)
                     and not member.is_in_progress(m))  # fmt: skip
        seconds = member.context(plain).seconds
        graphs = {}
        for n in (0, 1, 5, 30):
            status, _, raw = await get(f"/api/workout/{plain.id}/performance_graph?every_n={n}")
            assert status == 200
            graphs[n] = json.loads(raw)
        assert graphs[0] == graphs[1]
        for n in (1, 5, 30):
            assert graphs[n]["seconds_since_pedaling_start"] == list(range(n, seconds + 1, n))
            for metric in graphs[n]["metrics"]:
                assert len(metric["values"]) == seconds // n
            assert graphs[n]["summaries"] == graphs[1]["summaries"]
        cadence = next(m for m in graphs[5]["metrics"] if m["slug"] == "cadence")["values"]
        per_second = next(m for m in graphs[1]["metrics"] if m["slug"] == "cadence")["values"]
        assert cadence[0] == round(sum(per_second[:5]) / 5)

        legacy = member.newest(flags=SPACING_5S)[0]
        graph = json.loads((await get(f"/api/workout/{legacy.id}/performance_graph?every_n=1"))[2])
        points = graph["seconds_since_pedaling_start"]
        assert {b - a for a, b in itertools.pairwise(points)} == {5}

        gappy = member.newest(flags=GAPS)[0]
        graph = json.loads((await get(f"/api/workout/{gappy.id}/performance_graph?every_n=1"))[2])
        points = graph["seconds_since_pedaling_start"]
        assert max(b - a for a, b in itertools.pairwise(points)) > 1
        assert all(len(m["values"]) == len(points) for m in graph["metrics"])
        assert (await get(f"/api/workout/{plain.id}/performance_graph?every_n=-1"))[0] == 400

    with_sim(test, workouts=40, seed=5)


def metric(graph: dict, slug: str) -> dict:
    return next(m for m in graph["metrics"] if m["slug"] == slug)


def summary(graph: dict, slug: str) -> Any:
    return next(
        s["value"] for s in graph["summaries"] + graph["average_summaries"] if s["slug"] == slug
    )


def test_numbers_agree_with_each_other() -> None:
    """Power, energy, distance, speed, pace, zones: what a careful reader would cross-check."""
    member = Member(seed=11, workouts=80)
    checked = set()
    for meta in member.newest():
        ctx = member.context(meta)
        if not ctx.seconds or meta.flags & (GAPS | SPACING_5S):
            continue
        graph = member.performance_graph(meta.id, 1)
        workout = member.workout(meta.id)
        n = ctx.seconds
        assert len(graph["seconds_since_pedaling_start"]) == n
        slugs = {m["slug"] for m in graph["metrics"]}
        if "output" in slugs:
            watts = metric(graph, "output")["values"]
            assert sum(watts) == int(workout["total_work"])  # joules: one watt for one second
            assert summary(graph, "total_output") == round(workout["total_work"] / 1000)
            assert summary(graph, "avg_output") == round(sum(watts) / n)
            assert metric(graph, "output")["max_value"] == max(watts)
        if "speed" in slugs:
            speed = metric(graph, "speed")["values"]
            assert summary(graph, "distance") == pytest.approx(sum(speed) / 3600, abs=0.011)
            assert summary(graph, "avg_speed") == pytest.approx(sum(speed) / n, abs=0.051)
        if "pace" in slugs:
            pace = metric(graph, "pace")
            speed = pace["alternatives"][0]["values"]
            for p, s in zip(pace["values"], speed, strict=True):
                assert (p is None) == (s == 0) and (p is None or p == round(60 / s, 2))
            assert summary(graph, "distance") == pytest.approx(sum(speed) / 3600, abs=0.011)
        if "heart_rate" in slugs:
            hr = metric(graph, "heart_rate")
            durations = [z["duration"] for z in hr["zones"]]
            assert sum(durations) + hr["missing_data_duration"] == n
            present = [v for v in hr["values"] if v]
            assert len(present) == sum(durations)
            assert hr["average_value"] == round(sum(present) / len(present))
            for zone in hr["zones"]:
                inside = [v for v in present if zone["min_value"] <= v <= zone["max_value"]]
                assert len(inside) == zone["duration"]
            assert all(v <= member.athlete.max_hr for v in present)
        checked.add(meta.kind)
    assert {"cycling_class", "just_ride", "scenic", "tread_run", "tread_walk", "outdoor_walk",
            "rowing"} <= checked  # fmt: skip


def test_the_csv_export_agrees_with_the_graphs() -> None:
    member = Member(seed=12, workouts=40)
    rows = list(csv.DictReader(io.StringIO(member.history_csv("America/New_York"))))
    assert len(rows) == member.total
    assert len(rows[0]) == 18
    oldest_first = member.workout_ids()[::-1]
    for row, wid in zip(rows, oldest_first, strict=True):
        meta = member.meta(wid)
        if not member.context(meta).seconds or meta.kind != "cycling_class":
            continue
        graph = member.performance_graph(wid)
        assert int(row["Total Output"]) == summary(graph, "total_output")
        assert int(row["Avg. Watts"]) == summary(graph, "avg_output")
        assert row["Avg. Resistance"] == f"{summary(graph, 'avg_resistance')}%"
        assert float(row["Distance (mi)"]) == summary(graph, "distance")
        assert int(row["Calories Burned"]) == summary(graph, "calories")
        if meta.flags & 1:
            assert (
                round(float(row["Avg. Heartrate"])) == metric(graph, "heart_rate")["average_value"]
            )
        assert row["Workout Timestamp"].endswith(("(EST)", "(EDT)"))


def test_units_follow_the_members_setting() -> None:
    for units, expected in (("imperial", ("mi", "mph", "ft", "min/mi")),
                            ("metric", ("km", "kph", "m", "min/km"))):  # fmt: skip
        member = Member(seed=13, workouts=30, units=units)
        distance, speed, elevation, pace = expected
        tread = member.newest(kind="tread_run")[0]
        graph = member.performance_graph(tread.id)
        units_seen = {
            s["slug"]: s["display_unit"] for s in graph["summaries"] + graph["average_summaries"]
        }
        assert units_seen["distance"] == distance and units_seen["elevation"] == elevation
        assert units_seen["avg_speed"] == speed and units_seen["avg_pace"] == pace
        assert graph["splits_data"]["distance_marker_display_unit"] == distance
        header = member.history_csv().splitlines()[0]
        assert f"Distance ({distance})" in header and f"Avg. Pace ({pace})" in header
        assert member.me()["distance_unit"] == units
        outdoor = member.performance_graph(member.newest(kind="outdoor_walk")[0].id)
        point = outdoor["location_data"][0]["coordinates"][0]
        assert point["distance_display_unit"] == distance


def test_errors_have_the_real_bodies() -> None:
    async def test(sim: Sim, get: Get) -> None:
        member = sim.member
        wid = member.workout_ids()[3]
        for token in (None, "not-a-token"):
            status, headers, raw = await get(f"/api/workout/{wid}", token=token)
            assert status == 401 and raw == orjson.dumps(NOT_LOGGED_IN)
            assert json.loads(raw) == {"status": 401, "error_code": 3020, "subcode": None,
                                       "message": "Not logged in", "details": None}  # fmt: skip
        status, _, raw = await get("/auth/login", token=None, method="POST")
        assert status == 403
        assert json.loads(raw) == {
            "status": 403,
            "message": "Access forbidden. Endpoint no longer accepting requests.",
        }
        gym = member.ride_of(member.newest(flags=GYM)[0])
        for path in (
            "/api/workout/" + "f" * 32,
            "/api/workout/" + "f" * 32 + "/performance_graph?every_n=1",
            f"/api/ride/{JUST_RIDE_ID}/details",
            f"/api/ride/{gym.id}/details",
            "/api/ride/" + "e" * 32 + "/details",
            "/api/instructor/" + "d" * 32,
            "/api/no/such/thing",
        ):
            status, headers, raw = await get(path)
            assert status == 404 and headers["Content-Type"] == "application/json", path
            assert json.loads(raw)["status"] == 404
        other = "a" * 32
        assert (await get(f"/api/user/{other}/workouts"))[0] == 403
        assert (await get("/api/user/nobody/workouts"))[0] == 404
        assert (await get(f"/api/user/{other}/workout_history_csv"))[0] == 403
        ride = member.ride_of(member.newest(kind="cycling_class")[0])
        assert (await get(f"/api/ride/{ride.id}/details"))[0] == 200

    with_sim(test, workouts=30)


def test_an_expired_token_gets_401_until_refreshed() -> None:
    now = [1_000_000.0]

    async def test(sim: Sim, get: Get) -> None:
        tokens = sim.tokens.issue_for(sim.user)
        assert (await get("/api/me", token=tokens["access_token"]))[0] == 200
        now[0] += tokens["expires_in"] + 1
        status, _, raw = await get("/api/me", token=tokens["access_token"])
        assert status == 401 and json.loads(raw) == NOT_LOGGED_IN
        fresh = sim.tokens.rotate(tokens["refresh_token"])
        assert fresh is not None and (await get("/api/me", token=fresh["access_token"]))[0] == 200

    with_sim(test, workouts=5, access_lifetime_s=3600, clock=lambda: now[0])


def test_gps_points_only_with_the_web_platform_header() -> None:
    async def main() -> None:
        async with run_sim(workouts=10) as sim, aiohttp.ClientSession() as session:
            outdoor = sim.member.newest(kind="outdoor_walk")[0].id
            url = f"{sim.api_url}/api/workout/{outdoor}/performance_graph?every_n=1"
            token = {"Authorization": f"Bearer {sim.access_token()}"}
            points = []
            for platform in ({"Peloton-Platform": "web"}, {}):
                async with session.get(url, headers=token | platform) as response:
                    graph = await response.json()
                points.append(sum(len(s["coordinates"]) for s in graph["location_data"]))
            assert points[0] == sim.member.context(sim.member.meta(outdoor)).seconds
            assert points[1] == 0

    asyncio.run(main())


def test_the_csv_endpoint_serves_text_csv_in_the_asked_time_zone() -> None:
    async def test(sim: Sim, get: Get) -> None:
        uid = sim.member.user_id
        status, headers, raw = await get(f"/api/user/{uid}/workout_history_csv?timezone=Asia/Tokyo")
        assert status == 200 and headers["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(raw.decode())))
        assert rows[0][0] == "Workout Timestamp" and len(rows) == sim.member.total + 1
        assert all(len(row) == 18 for row in rows)
        assert rows[1][0].endswith("(JST)")

    with_sim(test, workouts=12)


def test_the_same_seed_serves_the_same_bytes_and_hashes_are_kept() -> None:
    paths: list[list[str]] = []
    bodies: list[dict[str, bytes]] = []

    async def test(sim: Sim, get: Get) -> None:
        member = sim.member
        uid = member.user_id
        chosen = [f"/api/user/{uid}/workouts?{JOINS}&limit=100&page=0", "/api/me",
                  f"/api/user/{uid}/workout_history_csv?timezone=UTC"]  # fmt: skip
        for wid in member.workout_ids()[:25]:
            chosen += [
                f"/api/workout/{wid}?{JOINS}",
                f"/api/workout/{wid}/performance_graph?every_n=1",
            ]
        got = {}
        for path in chosen:
            status, _, raw = await get(path)
            assert status == 200
            again = await get(path)
            assert again[2] == raw
            got[path] = raw
            plain, _, query = path.partition("?")
            assert sim.served_sha256(plain, query) == {hashlib.sha256(raw).hexdigest()}
        paths.append(chosen)
        bodies.append(got)

    with_sim(test, workouts=40, seed=21)
    with_sim(test, workouts=40, seed=21)
    with_sim(test, workouts=40, seed=22)
    assert paths[0] == paths[1] and bodies[0] == bodies[1]
    assert bodies[2]["/api/me"] != bodies[0]["/api/me"]


def test_a_new_workout_appears_on_top_and_shifts_every_page() -> None:
    member = Member(seed=4, workouts=30)
    before = [member.workouts_page(p, 10)["data"] for p in range(3)]
    newest_before = member.workout_ids()[0]
    new_id = member.add_workout()
    after = [member.workouts_page(p, 10)["data"] for p in range(4)]
    assert after[0][0]["id"] == new_id and member.total == 31
    assert after[1][0]["id"] == before[0][-1]["id"]  # seen on page 0, now again on page 1
    assert [w["id"] for page in after for w in page] == [new_id] + [
        w["id"] for page in before for w in page
    ]
    assert member.workout(new_id)["status"] == "IN_PROGRESS"
    assert member.workout(newest_before)["status"] == "COMPLETE"
    assert member.me()["total_workouts"] == 31
    assert sum(member.workouts_page(0, 10)["summary"].values()) == 31


def test_showcase_has_repeats_stopped_early_and_gym() -> None:
    member = Member(seed=6, workouts=25)
    rides = [m.slot for m in member.newest(kind="cycling_class")[:4]]
    ids = member.workout_ids()
    assert member.meta(ids[1]).slot == member.meta(ids[5]).slot  # the same class twice
    assert len(set(rides)) < len(rides)
    early = member.newest(flags=STOPPED_EARLY)[0]
    graph = member.performance_graph(early.id)
    assert graph["duration"] == member.ride_of(early).duration
    assert len(graph["seconds_since_pedaling_start"]) < graph["duration"]
    assert member.ride_details(member.ride_of(member.newest(flags=GYM)[0]).id) is None
    assert member.newest(flags=ZERO_LENGTH)


def test_a_big_member_starts_lazily_and_keeps_no_graph() -> None:
    tracemalloc.start()
    member = Member(seed=2, workouts=10_000)
    metadata, _ = tracemalloc.get_traced_memory()
    ids = member.workout_ids()
    for wid in ids[:: len(ids) // 12]:  # a dozen graphs, megabytes of values in all
        member.performance_graph(wid, 1)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert member.total == 10_000
    assert metadata < 15 * 1024 * 1024, f"{metadata / 1e6:.1f} MB of metadata"
    assert after - metadata < 1024 * 1024, "graphs are kept after they are served"
    page = member.workouts_page(50, 100)
    assert page["count"] == 100 and page["page_count"] == 100


def test_sim_in_thread_serves_synchronous_callers() -> None:
    with sim_in_thread(workouts=8, seed=3) as sim:
        request = urllib.request.Request(
            sim.api_url + "/api/me", headers={"Authorization": f"Bearer {sim.access_token()}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["id"] == sim.member.user_id
        assert sim.api_url.startswith("http://127.0.0.1:")
        assert sim.auth_url.startswith("http://127.0.0.1:") and sim.auth_url != sim.api_url
        assert sim.log[-1].path == "/api/me" and sim.log[-1].bearer


def test_rowing_splits_ending_on_the_last_second_do_not_crash_the_graph() -> None:
    # Seed 1 with 3,000 workouts has two Row workouts whose last 500 m ends on their last second.
    member = Member(seed=1, workouts=3000)
    for workout_id in ("e781255c3dbaeb2b0ece2ad89e11a404", "9d1723caa76b7b651b29b74043a5b454"):
        graph = member.performance_graph(workout_id, 1)
        assert graph is not None
        for split in graph["splits_metrics"]["metrics"]:
            assert all(item["value"] is not None for item in split["data"])


def test_a_simulator_bug_is_answered_and_logged_as_a_500() -> None:
    async def scenario() -> None:
        async with run_sim(workouts=5) as sim:

            def broken(*args: object, **kwargs: object) -> dict:
                raise ZeroDivisionError("a bug")

            sim.member.performance_graph = broken  # type: ignore[method-assign]
            workout_id = sim.member.workout_ids()[1]
            headers = {"Authorization": f"Bearer {sim.access_token()}"}
            async with aiohttp.ClientSession() as session:
                url = f"{sim.api_url}/api/workout/{workout_id}/performance_graph"
                async with session.get(url, headers=headers) as response:
                    assert response.status == 500
            assert sim.api_log()[-1].status == 500 and sim.api_log()[-1].fault == "bug"

    asyncio.run(scenario())


def test_added_workouts_keep_the_page_summary_newest_first_and_zone_totals_exact() -> None:
    member = Member(seed=5, workouts=40)
    member.workouts_page(0, 10)  # the month counts and zone totals are cached from here on
    for _ in range(30):  # enough to reach a month the member had no workout in
        member.add_workout()
    page = member.workouts_page(0, 10)
    months = list(page["summary"])
    assert months == sorted(months, reverse=True)
    assert sum(page["summary"].values()) == member.total
    kept = list(page["total_heart_rate_zone_durations"].values())
    member._zone_totals = None  # recount every workout from scratch
    assert kept == member._all_zone_totals()
