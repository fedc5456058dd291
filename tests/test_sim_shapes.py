"""The simulator's bodies have the real API's shapes: every endpoint, fetched over loopback HTTP,
compared key by key with the real sample of the same kind (shared/peloton-samples).

Rules of the comparison: objects have the same key sets; values the same JSON type (int and float
are both numbers); a null in the sample matches anything, a null from the simulator only where the
sample has one (or where a test says why). Lists are compared element by element: elements with a
`slug` against the sample element of the same slug, other objects against a sample element with
the same keys. Where the sample's list is empty, the elements seen at that place in the other
samples of the same endpoint stand in for it; where there are none, the simulator's list must be
empty too.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pelodump.sim.member import GYM, ZERO_LENGTH, Member
from pelodump.sim.server import run_sim

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "peloton-samples"
WORKOUT_FOLDERS = sorted(
    p.name for p in SAMPLES.iterdir() if (p / "workout.json").exists()
) if SAMPLES.exists() else []  # fmt: skip
JOINS = "joins=ride,ride.instructor"
DETAIL_ONLY_RIDE_KEYS = {
    "is_favorite",
    "total_user_workouts",
    "total_following_workouts",
    "leaderboard_filter_type",
}
# Lists whose elements are told apart by `slug`: a metric is compared with the sample's metric of
# the same slug, and a slug the sample does not have is an error.
SLUG_TYPED = {
    "$.metrics", "$.metrics[].alternatives", "$.metrics[].zones", "$.summaries",
    "$.average_summaries", "$.splits_metrics.metrics[].data",
}  # fmt: skip
pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="shared/peloton-samples not beside")


def load(*parts: str) -> Any:
    return json.loads((SAMPLES.joinpath(*parts)).read_text())


# --- the comparison ----------------------------------------------------------------------------


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "list", dict: "object"}[type(value)]


def pooled_elements(bodies: list[Any]) -> dict[str, list[Any]]:
    """Every list element seen at each place ("$.metrics[]") in these sample bodies."""
    pool: dict[str, list[Any]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            pool.setdefault(f"{path}[]", []).extend(value)
            for item in value:
                walk(item, f"{path}[]")

    for body in bodies:
        walk(body, "$")
    return pool


class Shape:
    """Compares simulated bodies with one sample body; collects the differences."""

    def __init__(self, pool: dict[str, list[Any]], allow_null: frozenset[str] = frozenset()):
        self.pool = pool
        self.allow_null = allow_null
        self.errors: list[str] = []
        self._index: dict[int, tuple[dict, dict, set[str]]] = {}

    def compare(self, sample: Any, sim: Any, path: str = "$") -> list[str]:
        if sample is None:
            return self.errors
        if sim is None:
            if path not in self.allow_null:
                self.errors.append(f"{path}: null where the sample has a {kind_of(sample)}")
            return self.errors
        if kind_of(sample) != kind_of(sim):
            self.errors.append(f"{path}: {kind_of(sim)} where the sample has a {kind_of(sample)}")
        elif isinstance(sample, dict):
            if set(sample) != set(sim):
                missing, extra = sorted(set(sample) - set(sim)), sorted(set(sim) - set(sample))
                self.errors.append(f"{path}: keys differ; missing {missing}, extra {extra}")
            for key in sample.keys() & sim.keys():
                self.compare(sample[key], sim[key], f"{path}.{key}")
        elif isinstance(sample, list):
            self._compare_list(sample, sim, path)
        return self.errors

    def _compare_list(self, sample: list, sim: list, path: str) -> None:
        elements = sample or self.pool.get(f"{path}[]", [])
        if not elements:
            if sim:
                self.errors.append(f"{path}: {len(sim)} elements where real lists are empty")
            return
        by_slug, by_keys, kinds = self._indexed(elements)
        typed = path in SLUG_TYPED
        for item in sim:
            if isinstance(item, dict):
                match = by_slug.get(item.get("slug")) if typed else by_keys.get(frozenset(item))
                if match is None and typed:
                    self.errors.append(f"{path}: slug {item['slug']!r} not in the sample")
                    continue
                self.compare(match or next(iter(by_keys.values())), item, f"{path}[]")
            elif isinstance(item, list):
                self.compare(elements[0], item, f"{path}[]")
            elif kind_of(item) not in kinds and "null" not in kinds:
                if item is None and f"{path}[]" in self.allow_null:
                    continue
                self.errors.append(f"{path}[]: {kind_of(item)} where the sample has {kinds}")

    def _indexed(self, elements: list) -> tuple[dict, dict, set[str]]:
        key = id(elements)
        if key not in self._index:
            dicts = [e for e in elements if isinstance(e, dict)]
            by_slug = {e["slug"]: e for e in dicts if "slug" in e}
            by_keys = {frozenset(e): e for e in dicts}
            self._index[key] = (by_slug, by_keys, {kind_of(e) for e in elements})
        return self._index[key]


WORKOUT_POOL = pooled_elements([load(f, "workout.json") for f in WORKOUT_FOLDERS])
GRAPH_POOL = pooled_elements([load(f, "performance_graph.json") for f in WORKOUT_FOLDERS])


# --- fetching everything once ------------------------------------------------------------------


def pick(member: Member, folder: str) -> list[str]:
    """Simulated workouts whose bodies should look like the sample folder's: one of each kind,
    complete and not zero-length (those have their own test)."""
    chosen: dict[str, str] = {}
    for meta in member.newest(shape=folder):
        if meta.kind in chosen or meta.flags & ZERO_LENGTH or member.is_in_progress(meta):
            continue
        chosen[meta.kind] = meta.id
    return list(chosen.values())


async def fetch_everything(member: Member) -> dict[str, Any]:
    async with run_sim(member=member) as sim, aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {sim.access_token()}", "Peloton-Platform": "web"}

        async def get(path: str) -> Any:
            async with session.get(sim.api_url + path, headers=headers) as response:
                assert response.status == 200, (path, response.status)
                assert response.content_type == "application/json"
                return await response.json()

        uid = member.user_id
        out: dict[str, Any] = {"me": await get("/api/me")}
        for folder in WORKOUT_FOLDERS:
            for wid in pick(member, folder):
                out[f"workout/{wid}"] = await get(f"/api/workout/{wid}?{JOINS}")
                out[f"graph/{wid}"] = await get(f"/api/workout/{wid}/performance_graph?every_n=1")
        pages = (member.total + 99) // 100
        for page in range(pages):
            out[f"page/{page}"] = await get(
                f"/api/user/{uid}/workouts?{JOINS}&limit=100&page={page}"
            )
        for meta in member.newest():
            ride = member.ride_of(meta)
            if ride and not meta.flags & GYM and f"ride/{ride.kind.name}" not in out:
                out[f"ride/{ride.kind.name}"] = await get(f"/api/ride/{ride.id}/details")
        out["instructors"] = await get("/api/instructor?limit=100&page=0")
        first = out["instructors"]["data"][0]["id"]
        out["instructor"] = await get(f"/api/instructor/{first}")
        return out


MEMBERS = {
    "imperial": Member(seed=7, workouts=60),
    "metric": Member(seed=8, workouts=60, units="metric"),
}


@pytest.fixture(scope="module", params=sorted(MEMBERS))
def served(request: pytest.FixtureRequest) -> tuple[Member, dict[str, Any]]:
    member = MEMBERS[request.param]
    return member, asyncio.run(fetch_everything(member))


# --- the tests ---------------------------------------------------------------------------------


def test_every_sample_folder_is_matched_by_simulated_workouts() -> None:
    for member in MEMBERS.values():
        for folder in WORKOUT_FOLDERS:
            assert pick(member, folder), f"no simulated workout looks like {folder}"


@pytest.mark.parametrize("folder", WORKOUT_FOLDERS)
def test_workouts_have_the_samples_shape(folder: str, served: tuple[Member, dict]) -> None:
    member, bodies = served
    sample = load(folder, "workout.json")
    for wid in pick(member, folder):
        errors = Shape(WORKOUT_POOL).compare(sample, bodies[f"workout/{wid}"])
        assert not errors, f"{folder} ({member.meta(wid).kind}): " + "\n".join(errors)


@pytest.mark.parametrize("folder", WORKOUT_FOLDERS)
def test_performance_graphs_have_the_samples_shape(
    folder: str, served: tuple[Member, dict]
) -> None:
    member, bodies = served
    sample = load(folder, "performance_graph.json")
    for wid in pick(member, folder):
        errors = Shape(GRAPH_POOL).compare(sample, bodies[f"graph/{wid}"])
        assert not errors, f"{folder} ({member.meta(wid).kind}): " + "\n".join(errors)
        sample_slugs = {m["slug"] for m in sample["metrics"]}
        graph_slugs = {m["slug"] for m in bodies[f"graph/{wid}"]["metrics"]}
        assert graph_slugs <= sample_slugs


def test_workouts_pages_have_the_samples_shape(served: tuple[Member, dict]) -> None:
    """The envelope as the sample's; each item as the sample's item (a Row), except that its
    `ride` is that of its own kind's sample, and nulls where that sample has them are fine.
    `effort_zones` is null without a heart-rate monitor
    (public captures of the real list show that) and `next` is null on the last page."""
    member, bodies = served
    sample = load("workouts_page", "page0_limit5.json")
    item_sample = sample["data"][0]
    pages = [bodies[key] for key in sorted(bodies) if key.startswith("page/")]
    for page in pages:
        allow = frozenset({"$.next"} if not page["show_next"] else ())
        blank = {"data": [], "summary": {}}  # compared below: items one by one, months as a map
        errors = Shape({}, allow).compare({**sample, **blank}, {**page, **blank})
        assert not errors, "\n".join(errors)
        assert all(re.fullmatch(r"\d{4}-\d{2}", month) for month in page["summary"])
        assert sum(page["summary"].values()) == page["total"] == member.total
        for item in page["data"]:
            meta = member.meta(item["id"])
            own = load(meta.shape, "workout.json")
            ride_sample = own["ride"]
            # Nulls its own kind's sample has (a Just Ride has no peloton_id) are fine too.
            own_nulls = {f"$.{key}" for key, value in own.items() if value is None}
            allow = frozenset({"$.effort_zones", "$.end_time", *own_nulls})
            errors = Shape(WORKOUT_POOL, allow).compare({**item_sample, "ride": ride_sample}, item)
            assert not errors, f"{meta.kind}: " + "\n".join(errors)


def test_ride_details_have_the_ride_of_their_kind_and_the_details_keys(
    served: tuple[Member, dict],
) -> None:
    """No sample of /details: its `ride` must match the kind's ride sample, and its top level
    the keys a public capture of the real endpoint shows (plus `class_types` and
    `target_metrics_data`, named in peloton-api.md)."""
    _, bodies = served
    expected_top = {
        "ride", "class_types", "playlist", "averages", "segments", "default_album_images",
        "excluded_platforms", "is_ftp_test", "disabled_leaderboard_filters", "sampled_top_tags",
        "instructor_cues", "target_class_metrics", "target_metrics_data", "events",
    }  # fmt: skip
    kinds = [key.removeprefix("ride/") for key in bodies if key.startswith("ride/")]
    assert len(kinds) >= 10
    member = MEMBERS["imperial"]
    for kind in kinds:
        details = bodies[f"ride/{kind}"]
        assert set(details) == expected_top
        shape = next(m.shape for m in member.newest(kind=kind))
        sample_ride = load(shape, "workout.json")["ride"]
        ride = {k: v for k, v in details["ride"].items() if k not in DETAIL_ONLY_RIDE_KEYS}
        assert set(details["ride"]) - set(ride) == DETAIL_ONLY_RIDE_KEYS
        errors = Shape(WORKOUT_POOL).compare(sample_ride, ride, "$.ride")
        assert not errors, f"{kind}: " + "\n".join(errors)
        segments = details["segments"]["segment_list"]
        graph_sample = load(shape, "performance_graph.json")["segment_list"]
        errors = Shape(GRAPH_POOL).compare(graph_sample, segments, "$.segment_list")
        assert not errors, f"{kind}: " + "\n".join(errors)


def test_instructors_have_the_joined_instructors_shape(served: tuple[Member, dict]) -> None:
    _, bodies = served
    sample = load("cycling_class_hr", "workout.json")["ride"]["instructor"]
    page = bodies["instructors"]
    assert {"data", "limit", "page", "total", "count", "page_count", "show_next"} <= set(page)
    for body in [*page["data"], bodies["instructor"]]:
        assert not Shape(WORKOUT_POOL).compare(sample, body, "$.ride.instructor")


def test_me_has_what_the_crawler_and_the_docs_name(served: tuple[Member, dict]) -> None:
    member, bodies = served
    me = bodies["me"]
    assert me["id"] == member.user_id and len(me["id"]) == 32
    for key, kind in {
        "cycling_ftp": int, "cycling_ftp_source": str, "estimated_cycling_ftp": int,
        "customized_max_heart_rate": int, "weight": float, "total_workouts": int,
        "username": str, "email": str, "workout_counts": list,
    }.items():  # fmt: skip
        assert isinstance(me[key], kind), key
    assert me["total_workouts"] == member.total
    assert sum(c["count"] for c in me["workout_counts"]) == member.total


def test_a_zero_length_workout_has_the_shape_with_empty_arrays_and_null_summaries() -> None:
    member = MEMBERS["imperial"]
    meta = member.newest(flags=ZERO_LENGTH)[0]
    graph = member.performance_graph(meta.id)
    workout = member.workout(meta.id)
    assert workout["start_time"] <= workout["end_time"] <= workout["start_time"] + 3
    assert graph["seconds_since_pedaling_start"] == []
    assert all(m["values"] == [] for m in graph["metrics"])
    assert all(s["value"] is None for s in graph["summaries"] + graph["average_summaries"])
    allow = frozenset(
        {"$.summaries[].value", "$.average_summaries[].value", "$.metrics[].max_value",
         "$.metrics[].average_value"}
    )  # fmt: skip
    sample = load(meta.shape, "performance_graph.json")
    assert not Shape(GRAPH_POOL, allow).compare(sample, graph)
    assert not Shape(WORKOUT_POOL).compare(load(meta.shape, "workout.json"), workout)


def test_the_in_progress_workout_is_the_newest_and_has_no_end_time() -> None:
    member = MEMBERS["imperial"]
    newest = member.meta(member.workout_ids()[0])
    workout = member.workout(newest.id)
    assert workout["status"] == "IN_PROGRESS" and workout["end_time"] is None
    graph = member.performance_graph(newest.id)
    ride_seconds = member.ride_of(newest).duration
    assert 0 < len(graph["seconds_since_pedaling_start"]) < ride_seconds
    others = [member.workout(i)["status"] for i in member.workout_ids()[1:]]
    assert set(others) == {"COMPLETE"}
    allow = frozenset({"$.end_time"})
    assert not Shape(WORKOUT_POOL, allow).compare(load(newest.shape, "workout.json"), workout)
