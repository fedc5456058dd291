"""A deterministic synthetic Peloton member: years of workouts from a seed, bodies on demand.

Only light metadata is kept per workout (kind, time, class, a few flags). Every body, and above
all every per-second graph, is generated when asked for, from (seed, workout index), and never
kept; asking twice gives the same bytes. The newest workouts are a fixed showcase of every kind
and every awkward case (in progress, stopped early, zero length, 5-s spacing, gaps, Peloton Gym,
the same class twice), so even a small member exercises everything.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pelodump.sim.catalog import (
    GYM_EVERY,
    IMAGES,
    INSTRUCTORS,
    INSTRUCTORS_BY_ID,
    KINDS,
    Catalog,
    Kind,
    Ride,
    hex_id,
    instructor_body,
    just_ride_body,
    ride_body,
    ride_details_body,
    rng_for,
)
from pelodump.sim.graphs import effort_zones_body, performance_graph
from pelodump.sim.numbers import MI_PER_KM, Athlete, Context, Totals, totals

ANCHOR = 1793491200  # 2026-11-01 00:00 UTC: "now" for every member, so no body depends on the clock
DEMO_USERNAME = "demo@pelodump.invalid"
DEMO_PASSWORD = "pelodump-demo-password"
MAX_PAGE_LIMIT = 100
SORT_BY = "-created_at,-pk"

HR, OLD_SHAPE, STOPPED_EARLY, ZERO_LENGTH, SPACING_5S, GAPS, GYM = (1 << i for i in range(7))

# The newest workouts, newest first: every kind and every awkward case, in a fixed order.
SHOWCASE: tuple[tuple[str, int], ...] = (
    ("cycling_class", HR),  # the newest: in progress
    ("cycling_class", HR),  # the same class as the no-HR one below
    ("just_ride", 0),
    ("scenic", HR),
    ("tread_run", HR),
    ("cycling_class", 0),  # no heart-rate monitor; the same class as two above
    ("outdoor_walk", HR),
    ("rowing", HR),
    ("strength", GYM),
    ("yoga", 0),
    ("stretching", 0),
    ("meditation", 0),
    ("running_app", 0),
    ("tread_walk", HR),
    ("cycling_class", HR | STOPPED_EARLY),
    ("cycling_class", ZERO_LENGTH),
    ("cycling_class", HR | OLD_SHAPE | SPACING_5S),
    ("outdoor_run", HR | GAPS),
    ("cycling_class", HR | GAPS),
    ("strength", 0),
)
_REPEATED = (1, 5)  # showcase positions that take the same class

# Where a member lives: time zone and where outdoor workouts start.
_HOMES = {
    False: (("America/New_York", 40.71, -74.0), ("America/Chicago", 41.88, -87.63),
            ("America/Denver", 39.74, -104.99), ("America/Los_Angeles", 34.05, -118.24)),
    True: (("Europe/London", 51.5, -0.12), ("Europe/Berlin", 52.52, 13.4),
           ("Europe/Paris", 48.86, 2.35)),
}  # fmt: skip
_STRAVA_SHAPES = {
    "cycling_class_hr",
    "cycling_class_hr_2",
    "cycling_freestyle_no_hr",
    "outdoor_walk_gps",
    "meditation",
}
_ACHIEVEMENTS = (
    ("3-Day Streak", "3_day_streak", "Awarded for working out 3 days in a row."),
    ("Early Bird", "early_bird", "Awarded for working out before 7 am."),
    ("Best Output", "best_output", "Awarded for a new personal record."),
    ("Weekend Warrior", "weekend_warrior", "Awarded for working out on a weekend."),
)


@dataclass(frozen=True, slots=True)
class WorkoutMeta:
    """What is kept per workout; everything else is derived from it on demand."""

    index: int  # creation order: 0 is the oldest
    id: str
    kind: str
    created_at: int
    slot: int  # the class taken, within its kind's catalog (-1: no class)
    planned: int  # seconds the workout was meant to last
    flags: int

    @property
    def shape(self) -> str:
        """The sample folder whose shapes this workout's bodies follow."""
        if self.kind == "cycling_class" and self.flags & OLD_SHAPE:
            return "cycling_class_hr_2"
        return KINDS[self.kind].shape


class Member:
    """A simulated member. Bodies are plain Python objects, ready for JSON."""

    def __init__(
        self,
        seed: int = 1,
        workouts: int = 150,
        units: str = "imperial",
        *,
        in_progress: bool = True,
        username: str = DEMO_USERNAME,
        password: str = DEMO_PASSWORD,
    ) -> None:
        if units not in ("imperial", "metric"):
            raise ValueError(f"units must be 'imperial' or 'metric', not {units!r}")
        if workouts < 0:
            raise ValueError("workouts must be at least 0")
        self.seed = seed
        self.units = units
        self.in_progress = in_progress
        self.username = username
        self.password = password
        self.user_id = hex_id(seed, "user")
        r = rng_for(seed, "member")
        metric = units == "metric"
        self.timezone, lat, lon = r.choice(_HOMES[metric])
        self.zone = ZoneInfo(self.timezone)
        max_hr = r.randint(176, 194)
        self.athlete = Athlete(
            metric=metric,
            ftp=r.randint(150, 270),
            max_hr=max_hr,
            rest_hr=r.randint(48, 64),
            weight_kg=round(r.uniform(58, 95), 1),
            home=(lat, lon),
        )
        self.first_name, self.last_name = r.choice(("Sam", "Alex", "Robin")), "Demo"
        span = min(8 * 365, max(365, 3 * workouts)) * 86_400
        self.catalog = Catalog(seed, ANCHOR - span - 60 * 86_400, ANCHOR, max(4, workouts // 4))
        self._workouts: list[WorkoutMeta] = []  # oldest first
        self._by_id: dict[str, WorkoutMeta] = {}
        self._rides: dict[str, tuple[str, int]] = {}  # ride id -> (kind, slot)
        self._months: Counter[str] | None = None
        self._zone_totals: list[int] | None = None
        self._generate(workouts, span)

    # --- metadata ---------------------------------------------------------------------------

    def _generate(self, n: int, span: int) -> None:
        r = rng_for(self.seed, "history")
        kinds = list(KINDS.values())
        weights = [k.share for k in kinds]
        mean_gap = span / max(1, n)
        plan: list[tuple[str, int, int]] = []  # newest first: (kind, flags, created_at)
        t = ANCHOR - r.randint(600, 7200)
        for position in range(n):
            if position < len(SHOWCASE):
                kind, flags = SHOWCASE[position]
            else:
                kind, flags = self._draw(r, kinds, weights, t)
            plan.append((kind, flags, t))
            t -= int(max(2 * 3600, r.expovariate(1 / mean_gap)))
        repeated_slot = None
        if n > max(_REPEATED):
            repeated_slot = self.catalog.latest_slot_before(plan[max(_REPEATED)][2])
        for position, (kind, flags, created) in reversed(list(enumerate(plan))):
            slot = repeated_slot if position in _REPEATED and repeated_slot is not None else None
            self._append(kind, flags, created, r, slot)

    def _draw(
        self, r: random.Random, kinds: list[Kind], weights: list[float], t: int
    ) -> tuple[str, int]:
        kind = r.choices(kinds, weights)[0].name
        flags = 0
        old = t < ANCHOR - 3 * 365 * 86_400
        if kind in ("scenic", "tread_run", "tread_walk", "outdoor_walk", "outdoor_run", "rowing"):
            flags |= HR
        elif kind == "cycling_class":
            flags |= HR if r.random() < 0.7 else 0
            if flags & HR and (old or r.random() < 0.2):
                flags |= OLD_SHAPE
            if r.random() < 0.05:
                flags |= STOPPED_EARLY
        if old and KINDS[kind].shape != "meditation" and r.random() < 0.5:
            flags |= SPACING_5S
        if r.random() < 0.08:
            flags |= GAPS
        return kind, flags

    def _append(
        self, kind: str, flags: int, created: int, r: random.Random, slot: int | None = None
    ) -> WorkoutMeta:
        index = len(self._workouts)
        k = KINDS[kind]
        if kind == "just_ride":
            slot, planned = -1, 60 * r.choice(k.minutes) + r.randint(-30, 90)
        else:
            if slot is None:
                latest = self.catalog.latest_slot_before(created)
                slot = max(0, latest - int(r.expovariate(1 / (1 + self.catalog.slots * 0.05))))
                if flags & GYM:  # the latest Peloton Gym class aired before
                    slot = latest - latest % GYM_EVERY
            planned = self.catalog.plan(kind, slot)[0]
            if kind == "scenic":  # fixed distance: the time depends on the rider
                planned = int(planned * r.uniform(0.95, 1.35))
            self._rides[self.catalog.ride_id(kind, slot)] = (kind, slot)
        meta = WorkoutMeta(
            index, hex_id(self.seed, "workout", index), kind, created, slot, planned, flags
        )
        self._workouts.append(meta)
        self._by_id[meta.id] = meta
        return meta

    def add_workout(self) -> str:
        """A new workout appears at the top (shifting every page by one); returns its id."""
        index = len(self._workouts)
        r = rng_for(self.seed, "added", index)
        newest = self._workouts[-1].created_at if self._workouts else ANCHOR
        created = newest + r.randint(2 * 3600, 30 * 3600)
        kinds = list(KINDS.values())
        kind, flags = self._draw(r, kinds, [k.share for k in kinds], created)
        meta = self._append(kind, flags, created, r)
        month = self._month(meta.created_at)
        if self._months is not None and month in self._months:
            self._months[month] += 1
        else:  # a new month goes first (newest first): count afresh when next asked
            self._months = None
        # Recounted when next asked, not updated: the workout that was in progress no longer is,
        # and its zones change with that.
        self._zone_totals = None
        return meta.id

    # --- lookups ----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self._workouts)

    def workout_ids(self) -> list[str]:
        """Every workout id, newest first."""
        return [m.id for m in reversed(self._workouts)]

    def meta(self, workout_id: str) -> WorkoutMeta | None:
        return self._by_id.get(workout_id)

    def newest(
        self, kind: str | None = None, shape: str | None = None, flags: int = 0
    ) -> list[WorkoutMeta]:
        """Workouts (newest first) of a kind and/or sample shape having all of `flags`."""
        return [
            m
            for m in reversed(self._workouts)
            if (kind is None or m.kind == kind)
            and (shape is None or m.shape == shape)
            and m.flags & flags == flags
        ]

    def is_in_progress(self, meta: WorkoutMeta) -> bool:
        return self.in_progress and meta.index == len(self._workouts) - 1

    def ride_of(self, meta: WorkoutMeta) -> Ride | None:
        return None if meta.slot < 0 else self.catalog.ride(meta.kind, meta.slot)

    def context(self, meta: WorkoutMeta) -> Context:
        seconds = meta.planned
        if meta.flags & ZERO_LENGTH:
            seconds = 0
        elif self.is_in_progress(meta):
            seconds = int(meta.planned * 0.4)
        elif meta.flags & STOPPED_EARLY:
            seconds = int(meta.planned * rng_for(self.seed, "early", meta.index).uniform(0.3, 0.8))
        return Context(
            seed=self.seed,
            index=meta.index,
            kind=KINDS[meta.kind],
            ride=self.ride_of(meta),
            athlete=self.athlete,
            seconds=seconds,
            has_hr=bool(meta.flags & HR),
            spacing5=bool(meta.flags & SPACING_5S),
            gaps=bool(meta.flags & GAPS),
            old_shape=bool(meta.flags & OLD_SHAPE),
        )

    def totals(self, meta: WorkoutMeta) -> Totals:
        return totals(self.context(meta))

    # --- bodies -----------------------------------------------------------------------------

    def me(self) -> dict:
        """`GET /api/me`."""
        counts = Counter(KINDS[m.kind].discipline for m in self._workouts)
        pedaling = sum(1 for m in self._workouts if KINDS[m.kind].has_pedaling_metrics)
        a = self.athlete
        first = self._workouts[0].created_at if self._workouts else ANCHOR
        return {
            "id": self.user_id,
            "username": f"{self.first_name}{self.last_name}{self.seed}",
            "email": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": f"{self.first_name} {self.last_name}",
            "image_url": f"{IMAGES}/profiles/{self.user_id}.png",
            "location": "",
            "birthday": 0,
            "gender": "",
            "height": 68.0 if not a.metric else 173.0,
            "weight": round(a.weight_kg / 0.45359237, 1) if not a.metric else a.weight_kg,
            "distance_unit": self.units,
            "cycling_ftp": a.ftp,
            "cycling_ftp_source": "ftp_manual_source",
            "cycling_ftp_workout_id": None,
            "cycling_workout_ftp": 0,
            "estimated_cycling_ftp": round(a.ftp * 1.03),
            "customized_max_heart_rate": a.max_hr,
            "default_max_heart_rate": a.max_hr,
            "customized_heart_rate_zones": [],
            "default_heart_rate_zones": [
                0.0,
                *(round(a.max_hr * f, 1) for f in (0.65, 0.75, 0.85, 0.95)),
            ],
            "total_workouts": self.total,
            "total_pedaling_metric_workouts": pedaling,
            "total_non_pedaling_metric_workouts": self.total - pedaling,
            "workout_counts": [
                {
                    "name": KINDS_BY_DISCIPLINE[d].discipline_display,
                    "slug": d,
                    "count": counts[d],
                    "icon_url": f"{IMAGES}/workout-count-icons/{d}.png",
                }
                for d in KINDS_BY_DISCIPLINE
            ],
            "created_at": first - 30 * 86_400,
            "last_workout_at": self._workouts[-1].created_at if self._workouts else None,
            "is_profile_private": False,
            "is_provisional": False,
            "total_followers": 12,
            "total_following": 7,
            "member_groups": [],
            "paired_devices": [],
        }

    def workouts_page(
        self, page: int = 0, limit: int = 20, joins: frozenset[str] | None = None
    ) -> dict:
        """`GET /api/user/{id}/workouts`: one page, newest first, with the full envelope."""
        limit = max(1, min(MAX_PAGE_LIMIT, limit))
        page = max(0, page)
        joins = DEFAULT_JOINS if joins is None else joins
        newest_first = self._workouts[::-1]
        chunk = newest_first[page * limit : (page + 1) * limit]
        after = newest_first[(page + 1) * limit : (page + 1) * limit + 1]
        total = self.total
        return {
            "data": [self._workout_body(m, joins, list_item=True) for m in chunk],
            "limit": limit,
            "page": page,
            "total": total,
            "count": len(chunk),
            "page_count": math.ceil(total / limit),
            "show_previous": page > 0,
            "show_next": bool(after),
            "sort_by": SORT_BY,
            "next": {"workout_id": after[0].id, "created_at": after[0].created_at}
            if after
            else None,
            "summary": dict(self._month_counts()),
            "aggregate_stats": [],
            "total_heart_rate_zone_durations": {
                f"heart_rate_z{z + 1}_duration": d for z, d in enumerate(self._all_zone_totals())
            },
        }

    def workout(self, workout_id: str, joins: frozenset[str] | None = None) -> dict | None:
        """`GET /api/workout/{id}`, or None if there is no such workout."""
        meta = self._by_id.get(workout_id)
        if meta is None:
            return None
        return self._workout_body(meta, DEFAULT_JOINS if joins is None else joins, list_item=False)

    def performance_graph(
        self, workout_id: str, every_n: int = 1, *, platform_web: bool = True
    ) -> dict | None:
        """`GET /api/workout/{id}/performance_graph?every_n=N`; `every_n` 0 acts as 1. GPS points
        only for callers sending `Peloton-Platform: web`, as the real API."""
        meta = self._by_id.get(workout_id)
        if meta is None:
            return None
        return performance_graph(self.context(meta), max(1, every_n), gps=platform_web)

    def ride_details(self, ride_id: str) -> dict | None:
        """`GET /api/ride/{id}/details`; None (a 404) for unknown ids, Just Ride and Gym classes."""
        found = self._rides.get(ride_id)
        if found is None:
            return None
        ride = self.catalog.ride(*found)
        if ride.is_gym:
            return None
        with_drill = ride.kind.shape in (
            "rowing",
            "cycling_scenic_fixed_distance",
            "running_no_device_metrics",
        )
        return ride_details_body(ride, with_drill=with_drill)

    def instructors(self, page: int = 0, limit: int = 20) -> dict:
        """`GET /api/instructor`: one page of instructors."""
        limit = max(1, min(MAX_PAGE_LIMIT, limit))
        page = max(0, page)
        chunk = INSTRUCTORS[page * limit : (page + 1) * limit]
        return {
            "data": [instructor_body(i) for i in chunk],
            "limit": limit,
            "page": page,
            "total": len(INSTRUCTORS),
            "count": len(chunk),
            "page_count": math.ceil(len(INSTRUCTORS) / limit),
            "show_previous": page > 0,
            "show_next": (page + 1) * limit < len(INSTRUCTORS),
        }

    def instructor(self, instructor_id: str) -> dict | None:
        found = INSTRUCTORS_BY_ID.get(instructor_id)
        return instructor_body(found) if found else None

    def history_csv(self, timezone: str = "America/New_York") -> str:
        """`GET /api/user/{id}/workout_history_csv`: Peloton's own export, oldest first."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        metric = self.athlete.metric
        speed, distance, pace = ("kph", "km", "min/km") if metric else ("mph", "mi", "min/mi")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "Workout Timestamp",
                "Live/On-Demand",
                "Instructor Name",
                "Length (minutes)",
                "Fitness Discipline",
                "Type",
                "Title",
                "Class Timestamp",
                "Total Output",
                "Avg. Watts",
                "Avg. Resistance",
                "Avg. Cadence (RPM)",
                f"Avg. Speed ({speed})",
                f"Distance ({distance})",
                "Calories Burned",
                "Avg. Heartrate",
                "Avg. Incline",
                f"Avg. Pace ({pace})",
            ]
        )
        for meta in self._workouts:
            writer.writerow(self._csv_row(meta, zone))
        return out.getvalue()

    # --- helpers ----------------------------------------------------------------------------

    def _csv_row(self, meta: WorkoutMeta, zone: ZoneInfo) -> list:
        ctx = self.context(meta)
        t = totals(ctx)
        ride = ctx.ride
        kind = ctx.kind
        a = self.athlete

        def blank(value: object) -> object:
            return "" if value is None else value

        avg_speed = t.average(t.speed10, 10, 2)
        distance = t.distance
        if kind.name == "rowing" and t.speed10 is not None and t.seconds:
            metres = t.speed10 / 10
            distance = round(metres / (1000 if a.metric else 1609.344), 2)
            avg_speed = round(metres / t.seconds * 3.6 * (1 if a.metric else MI_PER_KM), 2)
        pace = None
        if ctx.family in ("tread", "outdoor") and avg_speed:
            pace = round(60 / avg_speed, 2)
        hr = None
        if t.zones and t.hr_points:
            hr = round(t.hr_sum(a.zone_bounds(), a.rest_hr) / t.hr_points, 2)
        start = meta.created_at + self._intro(meta)
        minutes = round((ride.duration if ride and kind.name != "scenic" else t.seconds) / 60)
        return [
            _local(start, zone),
            "On Demand",
            ride.instructor.name if ride and ride.instructor else "",
            minutes,
            kind.discipline_display,
            ride.class_type if ride else "Just Ride",
            ride.title if ride else f"{max(1, round(t.seconds / 60))} min Just Ride",
            _local(ride.air_time, zone) if ride else "",
            blank(t.kj),
            blank(t.average(t.output)),
            "" if t.resistance is None or not t.seconds else f"{t.average(t.resistance)}%",
            blank(t.average(t.cadence)),
            blank(avg_speed),
            blank(distance),
            blank(t.calories),
            blank(hr),
            blank(t.average(t.incline10, 10, 2)),
            blank(pace),
        ]

    def _intro(self, meta: WorkoutMeta) -> int:
        """Seconds between pressing start and the class's first pedal stroke."""
        kind = KINDS[meta.kind]
        if kind.name in ("just_ride", "scenic"):
            return 2 + meta.index % 6
        return 60 if kind.content_format == "video" else 30

    def _month(self, t: int) -> str:
        return datetime.fromtimestamp(t, self.zone).strftime("%Y-%m")

    def _month_counts(self) -> Counter[str]:
        if self._months is None:
            self._months = Counter(self._month(m.created_at) for m in reversed(self._workouts))
        return self._months

    def _all_zone_totals(self) -> list[int]:
        if self._zone_totals is None:
            sums = [0] * 5
            for meta in self._workouts:
                if meta.flags & HR:
                    for z, d in enumerate(self.totals(meta).zones or ()):
                        sums[z] += d
            self._zone_totals = sums
        return self._zone_totals

    def _workout_body(self, meta: WorkoutMeta, joins: frozenset[str], *, list_item: bool) -> dict:
        ctx = self.context(meta)
        t = totals(ctx)
        kind = ctx.kind
        ride = ctx.ride
        r = rng_for(self.seed, "workout", meta.index)
        in_progress = self.is_in_progress(meta)
        start = meta.created_at + self._intro(meta)
        offset = datetime.fromtimestamp(meta.created_at, self.zone).utcoffset()
        watched = t.seconds + r.randint(0, 40) if kind.content_format == "video" else t.seconds
        freestyle = kind.ride_family == "freestyle"
        music = kind.name in ("just_ride", "scenic")
        cycling = kind.discipline == "cycling" and not freestyle and kind.name != "scenic"
        achievements = self._achievements(
            r, with_count=kind.ride_family in ("running", "freestyle")
        )
        values: dict = {
            "created_at": meta.created_at,
            "device_type": kind.device_type,
            "end_time": None if in_progress else start + t.seconds + r.randint(0, 3),
            "fitbit_id": None,
            "fitness_discipline": kind.discipline,
            "has_pedaling_metrics": kind.has_pedaling_metrics,
            "has_leaderboard_metrics": kind.has_leaderboard,
            "id": meta.id,
            "is_total_work_personal_record": r.random() < 0.03,
            "is_outdoor": kind.name in ("outdoor_walk", "outdoor_run"),
            "metrics_type": kind.metrics_type,
            "name": kind.workout_name,
            "peloton_id": None if freestyle else hex_id(self.seed, "peloton", meta.index),
            "platform": kind.platform,
            "start_time": start,
            "strava_id": str(r.randint(10**9, 10**10)) if meta.shape in _STRAVA_SHAPES else None,
            "status": "IN_PROGRESS" if in_progress else "COMPLETE",
            "timezone": self.timezone,
            "title": f"{max(1, round(t.seconds / 60))} min Just Ride" if freestyle else None,
            "total_work": t.total_work,
            "user_id": self.user_id,
            "workout_type": kind.workout_type,
            "total_video_watch_time_seconds": 0 if music else watched,
            "total_video_buffering_seconds": 0 if music else r.randint(0, 2),
            "v2_total_video_watch_time_seconds": None if meta.flags & OLD_SHAPE else watched,
            "v2_total_video_buffering_seconds": None if meta.flags & OLD_SHAPE else 0,
            "total_music_audio_play_seconds": t.seconds if music else None,
            "total_music_audio_buffer_seconds": 0 if music else None,
            "created": meta.created_at,
            "device_time_created_at": meta.created_at
            + int(offset.total_seconds() if offset else 0),
            "is_skip_intro_available": kind.content_format == "video" and not music,
            "total_heart_rate_zone_durations": None,
            "average_effort_score": None,
            "achievement_templates": achievements,
            "leaderboard_rank": r.randint(1, 20_000) if kind.has_leaderboard else None,
            "total_leaderboard_users": r.randint(20_000, 90_000) if kind.has_leaderboard else 0,
            "ftp_info": {
                "ftp": self.athlete.ftp if cycling else 0,
                "ftp_source": "ftp_manual_source" if cycling else None,
                "ftp_workout_id": None,
            },
            "device_type_display_name": kind.device_display,
            "service_id": 0 if freestyle else None,
            "has_paused": False,
            "is_pause_available": False,
            "effort_zones": effort_zones_body(t),
        }
        if "ride" in joins:
            with_instructor = "ride.instructor" in joins
            if ride is None:
                values["ride"] = just_ride_body(
                    meta.id, meta.created_at, t.seconds, with_instructor=with_instructor
                )
            else:
                values["ride"] = ride_body(ride, with_instructor=with_instructor)
        keys = _LIST_ITEM_KEYS if list_item else _DETAIL_KEYS[kind.ride_family]
        return {key: values[key] for key in keys if key in values}

    def _achievements(self, r: random.Random, *, with_count: bool) -> list[dict]:
        chosen = r.sample(_ACHIEVEMENTS, k=r.choice((0, 0, 1, 1, 2)))
        out = []
        for name, slug, description in chosen:
            item = {
                "id": hex_id("achievement", slug),
                "name": name,
                "slug": slug,
                "image_url": f"{IMAGES}/achievements/{slug}.png",
                "description": description,
            }
            if with_count:
                item["achievement_count"] = r.randint(1, 120)
            out.append(item)
        return out


DEFAULT_JOINS = frozenset({"ride", "ride.instructor"})
KINDS_BY_DISCIPLINE: dict[str, Kind] = {}
for _kind in KINDS.values():
    KINDS_BY_DISCIPLINE.setdefault(_kind.discipline, _kind)


def _local(t: int, zone: ZoneInfo) -> str:
    moment = datetime.fromtimestamp(t, zone)
    return f"{moment:%Y-%m-%d %H:%M} ({moment.tzname()})"


_HEAD = [
    "created_at", "device_type", "end_time", "fitness_discipline", "has_pedaling_metrics",
    "has_leaderboard_metrics", "id", "is_total_work_personal_record",
]  # fmt: skip
_MIDDLE = [
    "metrics_type", "name", "peloton_id", "platform", "start_time", "status", "timezone", "title",
    "total_work", "user_id", "workout_type", "total_video_watch_time_seconds",
    "total_video_buffering_seconds", "v2_total_video_watch_time_seconds",
    "v2_total_video_buffering_seconds", "total_music_audio_play_seconds",
    "total_music_audio_buffer_seconds", "ride", "created", "device_time_created_at",
]  # fmt: skip
_EXTRAS = [
    "total_heart_rate_zone_durations", "average_effort_score", "achievement_templates",
    "leaderboard_rank", "total_leaderboard_users", "ftp_info", "device_type_display_name",
]  # fmt: skip
# Key lists (and orders) of the real bodies, one per family of sample (see shared/peloton-samples).
_LIST_ITEM_KEYS = [
    *_HEAD,
    "is_outdoor",
    *_MIDDLE,
    "strava_id",
    "fitbit_id",
    "effort_zones",
    "service_id",
]
_DETAIL_KEYS = {
    "classic": [
        "created_at", "device_type", "end_time", "fitbit_id", "fitness_discipline",
        "has_pedaling_metrics", "has_leaderboard_metrics", "id", "is_total_work_personal_record",
        "metrics_type", "name", "peloton_id", "platform", "start_time", "strava_id", "status",
        "timezone", "title", "total_work", "user_id", "workout_type",
        *_MIDDLE[11:], "is_skip_intro_available", *_EXTRAS,
    ],
    "running": [*_HEAD, *_MIDDLE, "strava_id", "fitbit_id", "is_skip_intro_available", "has_paused",
                "is_pause_available", *_EXTRAS],
    "freestyle": [*_HEAD, *_MIDDLE, "strava_id", "fitbit_id", "service_id",
                  "is_skip_intro_available", "has_paused", "is_pause_available", *_EXTRAS[2:]],
    "modern": _LIST_ITEM_KEYS,
}  # fmt: skip
