"""Parsed Peloton JSON in, table rows and polars frames out: no archive, no files.

`workout_row` turns one workout (its detail and its performance graph) into the workouts row;
`GraphBatch` gathers the time series of a batch of graphs as flat Python lists and hands them
to polars in one go (one Series per column per batch, never a Python loop per value);
`ride_row` turns a class's details into the rides row.

Rules every function follows: metrics are found by slug, never by position; figures are Peloton's
own, converted to metric units with each figure's `display_unit` (see units.py); anything missing,
null or of an unexpected type becomes null rather than an error.

What some columns mean (the schemas below list them all):
- workouts: `duration_s` is the graph's `duration`, else end - start (Peloton's figure: for a
  class its length, however long it was ridden; end_time - start_time is the time it took);
  `ride_length_s` the class's nominal length; `total_output_kj` the `total_output` summary,
  else `total_work` unless 0 (a run or yoga has no output, not 0 kJ); `instructor` from the
  other workouts naming the same `instructor_id` when this one does not;
  `best_pace_min_per_km` and `best_split_pace_min_per_500m` are Peloton's `max_value` of a
  pace (the fastest, so the lowest number); hr_zoneN_s come from `effort_zones`, else the
  `heart_rate` metric's zones, else the detail's totals; `ftp_w` is null when Peloton says 0.
  Computed by pelodump, not Peloton: `has_graph`, `samples_count` (rows in samples),
  `sample_interval_s` (median spacing of the offsets), `metric_length_mismatches` (values
  arrays longer or shorter than the time array: cut to the shorter), `location_points`.
- samples: one row per point of the time array; a heart rate of 0 (Peloton's "no reading")
  is null; a Tread's or outdoor workout's speed comes from the pace metric's `alternatives`.
- metrics_long: every values array as sent (unit not converted, unknown slugs kept), plus the
  `alternatives` whose slug no metric of the graph has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter
from typing import Any

import polars as pl

from pelodump.units import convert, factor, utc_time

# Workout ids repeat millions of times across samples and metrics_long: categorical (a
# dictionary of a few thousand ids) in every table, so the tables join with each other.
WORKOUT_ID = pl.Categorical()

# --- schemas ------------------------------------------------------------------------------------

# Time-series slug -> (samples column, metric unit of that column).
SAMPLE_METRICS: dict[str, tuple[str, str]] = {
    "output": ("output_w", "w"),
    "cadence": ("cadence_rpm", "rpm"),
    "resistance": ("resistance_pct", "%"),
    "speed": ("speed_kph", "kph"),
    "heart_rate": ("heart_rate_bpm", "bpm"),
    "incline": ("incline_pct", "%"),
    "pace": ("pace_min_per_km", "min/km"),
    "altitude": ("altitude_m", "m"),
    "stroke_rate": ("stroke_rate_spm", "spm"),
    "split_pace": ("split_pace_min_per_500m", "min/500m"),
}

UTC_TIME = pl.Datetime("us", "UTC")

WORKOUTS_SCHEMA = pl.Schema(
    {
        "workout_id": WORKOUT_ID,
        "user_id": pl.String,
        "peloton_id": pl.String,
        "ride_id": pl.String,
        "title": pl.String,
        "instructor": pl.String,
        "instructor_id": pl.String,
        "fitness_discipline": pl.String,
        "workout_type": pl.String,
        "device_type": pl.String,
        "platform": pl.String,
        "status": pl.String,
        "is_outdoor": pl.Boolean,
        "start_time": UTC_TIME,
        "end_time": UTC_TIME,
        "timezone": pl.String,
        # start_time on the member's clock (in `timezone`), without a zone: for days and hours.
        "local_start_time": pl.Datetime("us"),
        "duration_s": pl.Float64,
        "ride_length_s": pl.Float64,
        "total_output_kj": pl.Float64,
        "total_work_kj": pl.Float64,
        "avg_output_w": pl.Float64,
        "max_output_w": pl.Float64,
        "avg_cadence_rpm": pl.Float64,
        "max_cadence_rpm": pl.Float64,
        "avg_resistance_pct": pl.Float64,
        "max_resistance_pct": pl.Float64,
        "avg_speed_kph": pl.Float64,
        "max_speed_kph": pl.Float64,
        "distance_km": pl.Float64,
        "calories_kcal": pl.Float64,
        "avg_heart_rate_bpm": pl.Float64,
        "max_heart_rate_bpm": pl.Float64,
        "avg_incline_pct": pl.Float64,
        "max_incline_pct": pl.Float64,
        "avg_pace_min_per_km": pl.Float64,
        "best_pace_min_per_km": pl.Float64,
        "elevation_m": pl.Float64,
        "avg_stroke_rate_spm": pl.Float64,
        "max_stroke_rate_spm": pl.Float64,
        "avg_split_pace_min_per_500m": pl.Float64,
        "best_split_pace_min_per_500m": pl.Float64,
        "stroke_count": pl.Float64,
        "effort_points": pl.Float64,
        "hr_zone1_s": pl.Float64,
        "hr_zone2_s": pl.Float64,
        "hr_zone3_s": pl.Float64,
        "hr_zone4_s": pl.Float64,
        "hr_zone5_s": pl.Float64,
        "is_personal_record": pl.Boolean,
        "leaderboard_rank": pl.Int64,
        "leaderboard_users": pl.Int64,
        "ftp_w": pl.Float64,
        # Computed by pelodump from the graph, not reported by Peloton:
        "has_graph": pl.Boolean,
        "samples_count": pl.Int64,
        "sample_interval_s": pl.Float64,
        "metric_length_mismatches": pl.Int64,
        "location_points": pl.Int64,
    }
)

_SAMPLE_COLUMN = {slug: i for i, slug in enumerate(SAMPLE_METRICS)}

SAMPLES_SCHEMA = pl.Schema(
    {"workout_id": WORKOUT_ID, "offset_s": pl.Int64}
    | {column: pl.Float64 for column, _ in SAMPLE_METRICS.values()}
)

# slug and unit repeat millions of times over a handful of values: categorical, as parquet
# stores them (a dictionary), which makes the table several times cheaper to write and read.
METRICS_LONG_SCHEMA = pl.Schema(
    {
        "workout_id": WORKOUT_ID,
        "offset_s": pl.Int64,
        "slug": pl.Categorical(),
        "value": pl.Float64,
        "unit": pl.Categorical(),
    }
)

SEGMENTS_SCHEMA = pl.Schema(
    {
        "workout_id": WORKOUT_ID,
        "segment_index": pl.Int64,
        "segment_id": pl.String,
        "name": pl.String,
        "icon_slug": pl.String,
        "metrics_type": pl.String,
        "start_offset_s": pl.Float64,
        "length_s": pl.Float64,
        "intensity_mets": pl.Float64,
        "is_drill": pl.Boolean,
    }
)

LOCATIONS_SCHEMA = pl.Schema(
    {
        "workout_id": WORKOUT_ID,
        "offset_s": pl.Int64,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        "accuracy_m": pl.Float64,
        "distance_km": pl.Float64,
        "is_gap": pl.Boolean,
        "segment_id": pl.String,
    }
)

RIDES_SCHEMA = pl.Schema(
    {
        "ride_id": pl.String,
        "title": pl.String,
        "description": pl.String,
        "instructor_id": pl.String,
        "instructor": pl.String,
        "fitness_discipline": pl.String,
        "duration_s": pl.Float64,
        "length_s": pl.Float64,
        "difficulty_estimate": pl.Float64,
        "difficulty_rating_avg": pl.Float64,
        "overall_rating_avg": pl.Float64,
        "original_air_time": UTC_TIME,
        "is_fixed_distance": pl.Boolean,
        "distance_km": pl.Float64,
        "class_types": pl.String,
        "segment_count": pl.Int64,
        "song_count": pl.Int64,
    }
)

SCHEMAS: dict[str, pl.Schema] = {
    "workouts": WORKOUTS_SCHEMA,
    "samples": SAMPLES_SCHEMA,
    "metrics_long": METRICS_LONG_SCHEMA,
    "segments": SEGMENTS_SCHEMA,
    "locations": LOCATIONS_SCHEMA,
    "rides": RIDES_SCHEMA,
}

# --- tolerant accessors: the API's shapes vary, and a missing piece is null, never an error ------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> float | int | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _by_slug(items: object) -> dict[str, dict[str, Any]]:
    """Entries of a list of {slug, ...} keyed by slug; the first wins when a slug repeats."""
    found: dict[str, dict[str, Any]] = {}
    for item in _list(items):
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            found.setdefault(item["slug"], item)
    return found


def metric_arrays(graph: dict[str, Any]) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every time-series metric of a graph with whether it is the one its slug stands for.

    The graph's own metrics come first; then the `alternatives` they carry (a Tread's `speed`
    lives inside `pace`) whose slug no metric of the graph already has. When a slug repeats, the
    first array is the one the samples table uses (`True`); the others are still yielded. Only
    a string is a slug: an array without one is yielded too, and stands for nothing.
    """
    metrics = [m for m in _list(graph.get("metrics")) if isinstance(m, dict)]
    seen: set[str] = set()
    for metric in metrics:
        slug = _str(metric.get("slug"))
        yield metric, slug not in seen
        if slug is not None:
            seen.add(slug)
    for metric in metrics:
        for alternative in _list(metric.get("alternatives")):
            slug = _str(_dict(alternative).get("slug"))
            if isinstance(alternative, dict) and slug not in seen:
                if slug is not None:
                    seen.add(slug)
                yield alternative, True


# --- the workouts row ---------------------------------------------------------------------------


def _metric_figure(
    metrics: dict[str, dict[str, Any]],
    averages: dict[str, dict[str, Any]],
    slug: str,
    key: str,
    target: str,
) -> float | None:
    """A metric's `average_value` or `max_value`, else for averages the `avg_<slug>` summary."""
    metric = metrics.get(slug, {})
    value = convert(metric.get(key), metric.get("display_unit"), target)
    if value is None and key == "average_value":
        value = _summary(averages, f"avg_{slug}", target)
    return value


def _numbers(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    """JSON numbers as a Float64 or Int64 column. Anything else is null, as the workouts row
    reads it: a string is never parsed ("2" is not 2), nor a fraction truncated where a whole
    number belongs (an offset of 1.5 s is no sample at 1 s). Peloton sends numbers: the
    checking pass only runs when polars refuses the list. (true and false are let through as 1
    and 0, as polars reads them: telling them apart would cost a pass over every value.)"""
    try:
        return pl.Series(name, values, dtype, strict=True)
    except TypeError:
        pass
    # isinstance, not type: true and false stay 1 and 0 here too, whatever else the batch holds.
    if dtype == pl.Int64:
        kept = [
            v if isinstance(v, int) and -(2**63) <= v < 2**63
            else int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2**63
            else None
            for v in values
        ]  # fmt: skip
    else:
        kept = [v if isinstance(v, int | float) else None for v in values]
    return pl.Series(name, kept, dtype, strict=False)


def _frame(rows: list[dict[str, Any]], schema: pl.Schema) -> pl.DataFrame:
    """Rows as a frame of exactly this schema, empty ones included."""
    return pl.from_dicts(rows, schema=schema) if rows else schema.to_frame()


def _summary(summaries: dict[str, dict[str, Any]], slug: str, target: str | None) -> float | None:
    summary = summaries.get(slug, {})
    return convert(summary.get("value"), summary.get("display_unit"), target)


def _hr_zone_seconds(
    graph: dict[str, Any], detail: dict[str, Any], heart_rate: dict[str, Any]
) -> list[float | None]:
    """Seconds in heart-rate zones 1..5, from the first source that has them."""

    def from_durations(durations: dict[str, Any]) -> list[float | None]:
        return [_number(durations.get(f"heart_rate_z{i}_duration")) for i in range(1, 6)]

    for durations in (
        _dict(_dict(graph.get("effort_zones")).get("heart_rate_zone_durations")),
        _dict(_dict(detail.get("effort_zones")).get("heart_rate_zone_durations")),
    ):
        if durations:
            return from_durations(durations)
    zones = _by_slug(heart_rate.get("zones"))
    if zones:
        return [_number(zones.get(f"zone{i}", {}).get("duration")) for i in range(1, 6)]
    return from_durations(_dict(detail.get("total_heart_rate_zone_durations")))


def ride_refs(detail: object) -> tuple[str | None, str | None, str | None]:
    """A workout detail's ride id, instructor id and instructor name, whatever shape it has."""
    ride = _dict(_dict(detail).get("ride"))
    instructor = _str(_dict(ride.get("instructor")).get("name"))
    return _str(ride.get("id")), _str(ride.get("instructor_id")), instructor


def workout_row(
    workout_id: str, detail: dict[str, Any] | None, graph: dict[str, Any] | None
) -> dict[str, Any]:
    """One workouts row from the workout's detail (or list item) and its performance graph.

    Either may be None: the row then holds what the other one knows. The columns computed from
    the samples are null here: GraphBatch.add returns `samples_count` and the like, and
    SealedBatch.frames the `sample_interval_s`.
    """
    detail, graph = detail or {}, graph or {}
    ride = _dict(detail.get("ride"))
    metrics: dict[str, dict[str, Any]] = {}
    for metric, primary in metric_arrays(graph):
        if primary and isinstance(metric.get("slug"), str):
            metrics[metric["slug"]] = metric
    averages = _by_slug(graph.get("average_summaries"))
    summaries = _by_slug(graph.get("summaries"))
    effort = _dict(graph.get("effort_zones")) or _dict(detail.get("effort_zones"))
    start, end = utc_time(detail.get("start_time")), utc_time(detail.get("end_time"))
    duration = _number(graph.get("duration"))
    if duration is None and start and end:
        duration = (end - start).total_seconds()
    total_work = _number(detail.get("total_work"))
    total_output = _summary(summaries, "total_output", "kj")
    ftp = _number(_dict(detail.get("ftp_info")).get("ftp"))

    def figure(slug: str, key: str, target: str) -> float | None:
        return _metric_figure(metrics, averages, slug, key, target)

    zones = _hr_zone_seconds(graph, detail, metrics.get("heart_rate", {}))
    return {
        "workout_id": workout_id,
        "user_id": _str(detail.get("user_id")),
        "peloton_id": _str(detail.get("peloton_id")),
        "ride_id": _str(ride.get("id")),
        # A class's title is the ride's; a Just Ride or freestyle has its own title or name.
        "title": _str(ride.get("title")) or _str(detail.get("title")) or _str(detail.get("name")),
        "instructor": _str(_dict(ride.get("instructor")).get("name")),
        "instructor_id": _str(ride.get("instructor_id")),
        "fitness_discipline": _str(detail.get("fitness_discipline")),
        "workout_type": _str(detail.get("workout_type")),
        "device_type": _str(detail.get("device_type")),
        "platform": _str(detail.get("platform")),
        "status": _str(detail.get("status")),
        "is_outdoor": _bool(detail.get("is_outdoor")),
        "start_time": start,
        "end_time": end,
        "timezone": _str(detail.get("timezone")),
        "local_start_time": None,  # see workouts_frame
        "duration_s": duration,
        "ride_length_s": _number(ride.get("duration")),
        # total_work is 0 where there is no output to measure (a run, yoga): no figure then.
        "total_output_kj": total_output
        if total_output is not None
        else convert(total_work or None, "j", "kj"),
        "total_work_kj": convert(total_work, "j", "kj"),
        "avg_output_w": figure("output", "average_value", "w"),
        "max_output_w": figure("output", "max_value", "w"),
        "avg_cadence_rpm": figure("cadence", "average_value", "rpm"),
        "max_cadence_rpm": figure("cadence", "max_value", "rpm"),
        "avg_resistance_pct": figure("resistance", "average_value", "%"),
        "max_resistance_pct": figure("resistance", "max_value", "%"),
        "avg_speed_kph": figure("speed", "average_value", "kph"),
        "max_speed_kph": figure("speed", "max_value", "kph"),
        "distance_km": _summary(summaries, "distance", "km"),
        "calories_kcal": _summary(summaries, "calories", "kcal"),
        "avg_heart_rate_bpm": figure("heart_rate", "average_value", "bpm"),
        "max_heart_rate_bpm": figure("heart_rate", "max_value", "bpm"),
        "avg_incline_pct": figure("incline", "average_value", "%"),
        "max_incline_pct": figure("incline", "max_value", "%"),
        "avg_pace_min_per_km": figure("pace", "average_value", "min/km"),
        # For a pace Peloton's `max_value` is the best (lowest) pace.
        "best_pace_min_per_km": figure("pace", "max_value", "min/km"),
        "elevation_m": _summary(summaries, "elevation", "m"),
        "avg_stroke_rate_spm": figure("stroke_rate", "average_value", "spm"),
        "max_stroke_rate_spm": figure("stroke_rate", "max_value", "spm"),
        "avg_split_pace_min_per_500m": figure("split_pace", "average_value", "min/500m"),
        "best_split_pace_min_per_500m": figure("split_pace", "max_value", "min/500m"),
        "stroke_count": _summary(summaries, "stroke_count", None),
        "effort_points": _number(effort.get("total_effort_points")),
        **{f"hr_zone{i}_s": seconds for i, seconds in enumerate(zones, start=1)},
        "is_personal_record": _bool(detail.get("is_total_work_personal_record")),
        "leaderboard_rank": _int(detail.get("leaderboard_rank")),
        "leaderboard_users": _int(detail.get("total_leaderboard_users")),
        "ftp_w": ftp if ftp else None,  # 0 means "no FTP set"
        "has_graph": bool(graph),
        "samples_count": None,
        "sample_interval_s": None,
        "metric_length_mismatches": None,
        "location_points": None,
    }


def _int(value: object) -> int | None:
    """A whole number (not true or false) that fits an Int64 column; else None. As in
    _numbers, a fraction is never truncated."""
    number = _number(value)
    if isinstance(number, float):
        number = int(number) if number.is_integer() else None
    return number if number is not None and -(2**63) <= number < 2**63 else None


def rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Workouts rows as a frame: a few hundred bytes a row instead of a few kilobytes."""
    return _frame(rows, WORKOUTS_SCHEMA)


def workouts_frame(
    rows: list[pl.DataFrame],
    intervals: pl.DataFrame | None = None,
    instructor_names: dict[str, str] | None = None,
) -> pl.DataFrame:
    """The workouts table, oldest first, with the sample intervals GraphBatch computed, and
    the instructor's name, where a workout names only the id, from the workouts that name it
    (instructor id -> name), as the rides table has it."""
    frame = pl.concat(rows) if rows else WORKOUTS_SCHEMA.to_frame()
    if intervals is not None:
        frame = frame.drop("sample_interval_s").join(intervals, on="workout_id", how="left")
    if instructor_names:
        names = pl.DataFrame(
            {"instructor_id": list(instructor_names), "_name": list(instructor_names.values())}
        )
        frame = (
            frame.join(names, on="instructor_id", how="left")
            .with_columns(pl.col("instructor").fill_null(pl.col("_name")))
            .drop("_name")
        )
    frame = frame.with_columns(_local_start_time(frame["timezone"]))
    frame = frame.select(WORKOUTS_SCHEMA.names())
    return frame.sort("start_time", pl.col("workout_id").cast(pl.String), nulls_last=True)


def _local_start_time(timezones: pl.Series) -> pl.Expr:
    """start_time converted to each row's own time zone, the zone then dropped (a column holds
    one zone); null where the zone is missing or not one the tz database knows."""
    local = pl.lit(None, pl.Datetime("us"))
    probe = pl.Series([None], dtype=UTC_TIME)
    for zone in timezones.drop_nulls().unique().sort():
        if not zone:  # no zone, which polars would take for UTC
            continue
        try:  # polars' own tz database decides: a zone it lacks would fail the whole table
            probe.dt.convert_time_zone(zone)
        except pl.exceptions.PolarsError:
            continue
        on_its_clock = pl.col("start_time").dt.convert_time_zone(zone).dt.replace_time_zone(None)
        local = pl.when(pl.col("timezone") == zone).then(on_its_clock).otherwise(local)
    return local.alias("local_start_time")


def segment_rows(workout_id: str, graph: dict[str, Any]) -> list[dict[str, Any]]:
    """The class plan as performed: one row per entry of `segment_list`."""
    return [
        {
            "workout_id": workout_id,
            "segment_index": index,
            "segment_id": _str(segment.get("id")),
            "name": _str(segment.get("name")),
            "icon_slug": _str(segment.get("icon_slug")),
            "metrics_type": _str(segment.get("metrics_type")),
            "start_offset_s": _number(segment.get("start_time_offset")),
            "length_s": _number(segment.get("length")),
            "intensity_mets": _number(segment.get("intensity_in_mets")),
            "is_drill": _bool(segment.get("is_drill")),
        }
        for index, segment in enumerate(_list(graph.get("segment_list")))
        if isinstance(segment, dict)
    ]


# --- the time series, batched -------------------------------------------------------------------


# The fields of a GPS point that GraphBatch keeps, in this order (see GraphBatch._points).
_GPS_FIELDS = (
    "seconds_offset_from_start",
    "latitude",
    "longitude",
    "accuracy",
    "distance",
    "distance_display_unit",
)


def _field_of_each(points: list[dict[str, Any]], name: str) -> list[Any]:
    """One field of every GPS point (None where a point lacks it); map(itemgetter) runs in C."""
    try:
        return list(map(itemgetter(name), points))
    except KeyError:
        return [point.get(name) for point in points]


class GraphBatch:
    """The time series, plan and GPS of a batch of workouts, turned into frames at once.

    `add` only extends flat lists (C-speed slices and extends of the lists orjson built);
    `seal` makes one polars Series per column for the whole batch, and the SealedBatch it
    returns does the unit conversion, the keying on `seconds_since_pedaling_start` and the
    reshaping in polars.
    Values arrays longer or shorter than the time array are cut to the shorter length (the
    extra values have no time to be keyed on) and counted in `metric_length_mismatches`.
    """

    def __init__(self, tables: set[str]) -> None:
        self.tables = tables
        self.keep_values = bool(tables & {"samples", "metrics_long"})
        self.workout_ids: list[str] = []
        self.time_lengths: list[int] = []
        self.offsets: list[Any] = []
        # One "run" per values array kept: which workout (of the batch), slug, unit, length.
        self.run_workout: list[int] = []
        self.run_slug: list[str | None] = []
        self.run_unit: list[str | None] = []
        self.run_length: list[int] = []
        self.run_primary: list[bool] = []
        self.values: list[Any] = []
        self.segments: list[dict[str, Any]] = []
        # One run per GPS segment (workout, segment_id, is_gap, points), and each point field
        # as a flat list: the points' dicts are not kept.
        self.location_runs: list[tuple[int, str | None, bool | None, int]] = []
        self.gps: list[list[Any]] = [[] for _ in _GPS_FIELDS]

    @property
    def size(self) -> int:
        """Roughly how many values the batch holds: flush when it passes a limit."""
        return len(self.offsets) + len(self.values) + len(self.gps[0])

    def add(self, workout_id: str, graph: dict[str, Any]) -> dict[str, int]:
        """Take in one workout's graph; returns the workouts row's columns computed from it."""
        seconds = _list(graph.get("seconds_since_pedaling_start"))
        index = len(self.workout_ids)
        mismatches = 0
        runs: list[tuple[str | None, str | None, int, bool, list[Any]]] = []
        for metric, primary in metric_arrays(graph):
            values = _list(metric.get("values"))
            count = min(len(values), len(seconds))
            mismatches += len(values) != len(seconds)
            if self.keep_values and count:
                kept = values if count == len(values) else values[:count]
                slug, unit = _str(metric.get("slug")), _str(metric.get("display_unit"))
                runs.append((slug, unit, count, primary, kept))
        location_runs = []
        gps: list[list[Any]] = [[] for _ in _GPS_FIELDS]
        for segment in map(_dict, _list(graph.get("location_data"))):
            points = [p for p in _list(segment.get("coordinates")) if isinstance(p, dict)]
            if points:
                segment_id, is_gap = _str(segment.get("segment_id")), _bool(segment.get("is_gap"))
                location_runs.append((index, segment_id, is_gap, len(points)))
                if "locations" in self.tables:
                    for kept, name in zip(gps, _GPS_FIELDS, strict=True):
                        kept.extend(_field_of_each(points, name))
        # Nothing above can fail half-way through the lists below: commit in one go.
        self.workout_ids.append(workout_id)
        self.time_lengths.append(len(seconds))
        self.offsets.extend(seconds)
        for slug, unit, count, primary, kept in runs:
            self.run_workout.append(index)
            self.run_slug.append(slug)
            self.run_unit.append(unit)
            self.run_length.append(count)
            self.run_primary.append(primary)
            self.values.extend(kept)
        if "locations" in self.tables:
            self.location_runs.extend(location_runs)
            for column, kept in zip(self.gps, gps, strict=True):
                column.extend(kept)
        if "segments" in self.tables:
            self.segments.extend(segment_rows(workout_id, graph))
        return {
            "samples_count": len(seconds),
            "metric_length_mismatches": mismatches,
            "location_points": sum(run[3] for run in location_runs),
        }

    def seal(self) -> SealedBatch:
        """The batch's lists as polars columns (the lists are let go).

        This is the part that takes the GIL for every value: do it on the thread that parsed
        the bodies. `SealedBatch.frames`, the whole-column polars work, can then run on
        another thread while this one parses the next batch.
        """
        ids = pl.Series("workout_id", self.workout_ids, dtype=WORKOUT_ID)
        first_sample = [0, *accumulate(self.time_lengths)]
        sealed = SealedBatch(
            tables=self.tables,
            workouts=_runs_frame([ids], first_sample, self.time_lengths),
            offsets=_numbers("offset_s", self.offsets, pl.Int64()),
        )
        if self.keep_values:
            sealed.runs, sealed.unknown_units = self._runs(ids, first_sample, len(self.offsets))
            sealed.values = _numbers("value", self.values, pl.Float64())
        # Let go of the batch's Python numbers now: the next batch is parsed meanwhile.
        self.offsets, self.values = [], []
        if "segments" in self.tables:
            sealed.segments = _frame(self.segments, SEGMENTS_SCHEMA)
        if "locations" in self.tables:
            sealed.points, sealed.point_runs = self._points(ids)
        self.gps = [[] for _ in _GPS_FIELDS]
        return sealed

    def _runs(
        self, ids: pl.Series, first_sample: list[int], samples: int
    ) -> tuple[pl.DataFrame, set[tuple[str, str | None]]]:
        """One row per kept values array (run): its workout_id, slug and unit, its samples
        (`_start`, `_length`), and for the samples table its column's first cell `at` in a
        grid of the samples columns laid end to end (null when samples has no column for it)
        and the `multiplier` that converts it; also the (slug, unit) pairs that cannot be
        converted."""
        at, multipliers = [], []
        unknown: set[tuple[str, str | None]] = set()
        gridded = "samples" in self.tables  # else no run has a column, and no unit is unknown
        for slug, unit, primary in zip(self.run_slug, self.run_unit, self.run_primary, strict=True):
            column = _SAMPLE_COLUMN.get(slug) if gridded and primary and slug else None
            multiplier = None if column is None else factor(unit, SAMPLE_METRICS[slug][1])
            if column is not None and multiplier is None:
                unknown.add((slug, unit))
                column = None
            at.append(None if column is None else column * samples)
            multipliers.append(multiplier)
        columns = [
            ids.gather(pl.Series(self.run_workout, dtype=pl.Int64)),
            pl.Series("slug", self.run_slug, pl.Categorical),
            pl.Series("unit", self.run_unit, pl.Categorical),
            pl.Series("at", at, pl.Int64),
            pl.Series("multiplier", multipliers, pl.Float64),
        ]
        starts = [first_sample[w] for w in self.run_workout]
        return _runs_frame(columns, starts, self.run_length), unknown

    def _points(self, ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The GPS points (one row each, with `km`: what turns its distance into km), and
        one row per GPS segment (workout_id, is_gap, segment_id and its points)."""
        (offsets, latitudes, longitudes, accuracies, distances, units) = self.gps
        try:
            kinds = set(units)
        except TypeError:  # a unit that cannot even be hashed (so no string): no factor
            units = list(map(_str, units))
            kinds = set(units)
        km = {unit: factor(unit, "km") for unit in kinds}
        points = pl.DataFrame(
            [
                _numbers("offset_s", offsets, pl.Int64()),
                _numbers("latitude", latitudes, pl.Float64()),
                _numbers("longitude", longitudes, pl.Float64()),
                _numbers("accuracy_m", accuracies, pl.Float64()),
                _numbers("distance", distances, pl.Float64()),
                pl.Series("km", list(map(km.__getitem__, units)), pl.Float64),
            ]
        )
        workout, segment_id, is_gap, count = (
            zip(*self.location_runs, strict=True) if self.location_runs else ((),) * 4
        )
        columns = [
            ids.gather(pl.Series(workout, dtype=pl.Int64)),
            pl.Series("is_gap", is_gap, dtype=pl.Boolean),
            pl.Series("segment_id", segment_id, dtype=pl.String),
        ]
        return points, _runs_frame(columns, [0, *accumulate(count)], list(count))


@dataclass
class SealedBatch:
    """A GraphBatch's columns in polars, ready to become the batch's frames.

    Values laid end to end (`offsets`: one per sample, `values`: one per kept value, `points`:
    one per GPS point) and frames of runs (`workouts`: one per workout, `runs`: one per values
    array, `point_runs`: one per GPS segment), each run saying where its elements start and
    how many there are (`_start`, `_length`).
    """

    tables: set[str]
    workouts: pl.DataFrame  # workout_id and its samples
    offsets: pl.Series
    runs: pl.DataFrame | None = None  # see GraphBatch._runs
    values: pl.Series | None = None
    unknown_units: set[tuple[str, str | None]] = field(default_factory=set)
    segments: pl.DataFrame | None = None
    points: pl.DataFrame | None = None
    point_runs: pl.DataFrame | None = None

    def frames(
        self,
    ) -> tuple[dict[str, pl.DataFrame], pl.DataFrame | None, set[tuple[str, str | None]]]:
        """The batch's tables, its sample intervals (workout_id, sample_interval_s) when the
        workouts table is wanted, and the (slug, unit) pairs whose unit could not be converted.

        The batch's tables are queries collected together: one call into polars, which lets
        go of the GIL until they are all done (each call that does costs a wait for the
        parsing thread to give the GIL back). Only the samples grid is filled afterwards.
        """
        n = self.offsets.len()
        samples = pl.concat(
            [_expand(self.workouts.lazy()), self.offsets.to_frame().lazy()], how="horizontal"
        )
        queries: dict[str, pl.LazyFrame] = {}
        if self.runs is not None and self.values is not None:
            # Each value with its run's columns and its `sample`: its row among the samples.
            per_value = pl.concat(
                [_expand(self.runs.lazy(), "sample"), self.values.to_frame().lazy()],
                how="horizontal",
            )
            if "metrics_long" in self.tables:
                queries["metrics_long"] = per_value.select(
                    "workout_id",
                    pl.lit(self.offsets).gather(pl.col("sample")).alias("offset_s"),
                    "slug",
                    "value",
                    "unit",
                )
            if "samples" in self.tables:
                queries["samples"] = samples
                # The samples grid's cells and their converted values; 0 bpm is how Peloton
                # marks "no reading".
                heart_rate = _SAMPLE_COLUMN["heart_rate"] * n
                value = pl.col("value") * pl.col("multiplier")
                queries["cells"] = per_value.filter(pl.col("at").is_not_null()).select(
                    pl.col("at") + pl.col("sample"),
                    pl.when((pl.col("at") == heart_rate) & (value == 0))
                    .then(None)
                    .otherwise(value)
                    .alias("value"),
                )
        if self.points is not None and self.point_runs is not None:
            queries["locations"] = (
                pl.concat([self.points.lazy(), _expand(self.point_runs.lazy())], how="horizontal")
                .with_columns(distance_km=pl.col("distance") * pl.col("km"))
                .select(LOCATIONS_SCHEMA.names())
            )
        if "workouts" in self.tables:
            # The median spacing of each workout's offsets (a workout's first has none).
            queries["intervals"] = samples.group_by("workout_id", maintain_order=True).agg(
                pl.col("offset_s").diff().median().alias("sample_interval_s")
            )
        # In memory, on polars' thread pool: the default engine here is the streaming one, whose
        # executor the table sinks keep busy encoding, so each batch's frames waited behind the
        # files (bench/build.py: the build 0.15-0.3 s faster, of ~2.4 s).
        frames = pl.collect_all(queries.values(), engine="in-memory")
        tables = dict(zip(queries, frames, strict=True))
        if "cells" in tables:
            cells = tables.pop("cells")
            grid = pl.repeat(None, n * len(SAMPLE_METRICS), dtype=pl.Float64, eager=True)
            grid.scatter(cells["at"], cells["value"])
            tables["samples"] = tables["samples"].hstack(
                [
                    grid.slice(i * n, n).alias(name)
                    for i, (name, _) in enumerate(SAMPLE_METRICS.values())
                ]
            )
        if self.segments is not None:
            tables["segments"] = self.segments
        return tables, tables.pop("intervals", None), self.unknown_units


def _runs_frame(columns: list[pl.Series], starts: list[int], lengths: list[int]) -> pl.DataFrame:
    """Per-run columns with each run's `_start` and `_length` (see _expand)."""
    return pl.DataFrame(
        [
            *columns,
            pl.Series("_start", starts[: len(lengths)], dtype=pl.Int64),
            pl.Series("_length", lengths, dtype=pl.Int64),
        ]
    )


def _expand(runs: pl.LazyFrame, index: str | None = None) -> pl.LazyFrame:
    """Each row of `runs` repeated once per element of its run (`_length` elements from
    `_start`, in the run's elements laid end to end); with `index`, each element's place. A
    run of length 0 leaves no row."""
    end = pl.col("_start") + pl.col("_length")
    expanded = (
        runs.filter(pl.col("_length") > 0)
        .with_columns(pl.int_ranges("_start", end).alias(index or "_place"))
        .explode(index or "_place")
        .drop("_start", "_length")
    )
    return expanded if index else expanded.drop("_place")


# --- the rides row ------------------------------------------------------------------------------

# A class's `distance_unit` names a system, not a unit.
_DISTANCE_UNITS = {"metric": "km", "imperial": "mi"}


def ride_row(
    ride_id: str, details: dict[str, Any], instructor_names: dict[str, str]
) -> dict[str, Any]:
    """One rides row from `GET /api/ride/{id}/details`: the class, its types, plan and playlist.

    The instructor's name comes from the ride if it carries one, else from the workouts that
    joined it (`instructor_names`: instructor id -> name).
    """
    ride = _dict(details.get("ride"))
    instructor_id = _str(ride.get("instructor_id"))
    name = _str(_dict(ride.get("instructor")).get("name"))
    distance_unit = ride.get("distance_unit")
    class_types = [_str(_dict(c).get("name")) for c in _list(details.get("class_types"))]
    return {
        "ride_id": _str(ride.get("id")) or ride_id,
        "title": _str(ride.get("title")),
        "description": _str(ride.get("description")),
        "instructor_id": instructor_id,
        "instructor": name or instructor_names.get(instructor_id or ""),
        "fitness_discipline": _str(ride.get("fitness_discipline")),
        "duration_s": _number(ride.get("duration")),
        "length_s": _number(ride.get("length")),
        "difficulty_estimate": _number(ride.get("difficulty_estimate")),
        "difficulty_rating_avg": _number(ride.get("difficulty_rating_avg")),
        "overall_rating_avg": _number(ride.get("overall_rating_avg")),
        "original_air_time": utc_time(ride.get("original_air_time")),
        "is_fixed_distance": _bool(ride.get("is_fixed_distance")),
        "distance_km": convert(
            ride.get("distance"),
            _DISTANCE_UNITS.get(str(distance_unit), distance_unit),
            "km",
        )
        if ride.get("is_fixed_distance")
        else None,
        "class_types": ", ".join(n for n in class_types if n) or None,
        "segment_count": _length(_dict(details.get("segments")).get("segment_list")),
        "song_count": _length(_dict(details.get("playlist")).get("songs")),
    }


def _length(items: object) -> int | None:
    return len(items) if isinstance(items, list) else None


def rides_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return _frame(rows, RIDES_SCHEMA)
