"""The performance graph of a simulated workout, keys as the real one of its kind.

Built on demand from the curves of numbers.py and never kept: asking twice gives the same body.
"""

from __future__ import annotations

import math

from pelodump.sim.catalog import IMAGES, hex_id, rng_for, segment_body
from pelodump.sim.numbers import Context, Curves, Totals, curves, totals

# --- the performance graph ---------------------------------------------------------------------


def _points(values: list, step: int, digits: int | None, zero_is_missing: bool = False) -> list:
    """Values at step-second spacing: the mean of each window (ints stay ints)."""
    if step == 1:
        if digits is None:
            return values
        return [round(v / 10, digits) for v in values]
    out = []
    for end in range(step, len(values) + 1, step):
        window = values[end - step : end]
        if zero_is_missing:
            window = [v for v in window if v] or [0]
        mean = sum(window) / len(window)
        out.append(round(mean) if digits is None else round(mean / 10, digits))
    return out


def _pace(speed: float, minutes_per: float = 60.0) -> float | None:
    return round(minutes_per / speed, 2) if speed > 0 else None


def _metric(name: str, unit: str, slug: str, values: list, avg: float | None, peak=None) -> dict:
    present = [v for v in values if v is not None]
    if peak is None:
        peak = max(present) if present else None
    return {
        "display_name": name,
        "display_unit": unit,
        "max_value": peak,
        "average_value": avg,
        "values": values,
        "slug": slug,
    }


def _summary(name: str, unit: str | None, value, slug: str) -> dict:
    return {"display_name": name, "display_unit": unit, "value": value, "slug": slug}


def _hr_metric(ctx: Context, t: Totals, values: list[int]) -> dict:
    bounds = ctx.athlete.zone_bounds()
    points = t.hr_points
    avg = round(t.hr_sum(bounds, ctx.athlete.rest_hr) / points) if points else None
    metric = _metric("Heart Rate", "bpm", "heart_rate", values, avg)
    metric["zones"] = [
        {
            "display_name": f"Zone {z + 1}",
            "slug": f"zone{z + 1}",
            "range": f"<{high + 1} bpm"
            if z == 0
            else f">={low} bpm"
            if z == 4
            else f"{low}-{high} bpm",
            "duration": (t.zones or (0,) * 5)[z],
            "max_value": high,
            "min_value": low,
        }
        for z, (low, high) in enumerate(bounds)
    ]
    metric["missing_data_duration"] = t.seconds - points
    return metric


def effort_zones_body(t: Totals) -> dict | None:
    if not t.zones:
        return None
    return {
        "total_effort_points": t.effort_points(),
        "heart_rate_zone_durations": {
            f"heart_rate_z{z + 1}_duration": d for z, d in enumerate(t.zones)
        },
    }


def performance_graph(ctx: Context, every_n: int, *, gps: bool = True) -> dict:
    """`GET /api/workout/{id}/performance_graph?every_n=N`, keys as the real one of its kind.

    Without `gps` (the API without `Peloton-Platform: web`) an outdoor workout has no GPS points.
    """
    t = totals(ctx)
    c = curves(ctx, t)
    points = _Sampler(ctx, 5 if ctx.spacing5 else max(1, every_n))
    family = ctx.family
    metrics, averages, summaries = _PARTS.get(family, _floor_parts)(ctx, t, c, points)
    if c.heart_rate is not None:
        metrics.append(_hr_metric(ctx, t, points(c.heart_rate, zero_is_missing=True)))
    if not ctx.seconds:  # nothing recorded: the arrays are empty and every summary value is null
        alternatives = [alt for m in metrics for alt in m.get("alternatives", [])]
        for m in metrics + alternatives:
            m["max_value"] = m["average_value"] = None

    shape = ctx.kind.shape
    ride = ctx.ride
    with_drill = shape in _DRILL_SHAPES
    graph: dict = {
        "duration": ride.duration if ride and ctx.kind.name != "scenic" else ctx.seconds,
        "is_class_plan_shown": ctx.kind.name not in ("just_ride", "scenic"),
        "segment_list": [segment_body(s, with_drill=with_drill) for s in ride.segments]
        if ride
        else [],
        "seconds_since_pedaling_start": points.seconds,
        "average_summaries": averages,
        "summaries": summaries,
        "metrics": metrics,
        "has_apple_watch_metrics": False,
    }
    scenic = shape == "cycling_scenic_fixed_distance"
    if shape == "rowing":
        graph["caesar_metrics"] = _caesar_metrics(ctx, c)
        graph["splits_metrics"] = _rowing_splits(c)
    else:
        if not ctx.old_shape and not scenic:  # older and scenic graphs have no location keys
            outdoor = family == "outdoor" and gps
            graph["location_data"] = _location_data(ctx, c) if outdoor else []
            graph["is_location_data_accurate"] = True if outdoor else None
        with_splits = family in ("tread", "outdoor") or scenic or ctx.kind.name == "running_app"
        graph["splits_data"] = _splits_data(ctx, c) if with_splits else {}
        if scenic:
            graph["splits_metrics"] = {}
    graph["target_metrics_performance_data"] = _targets(ctx)
    newer = shape == "rowing" or scenic or family in ("tread", "outdoor")
    graph["effort_zones"] = effort_zones_body(t) if newer else None
    if shape == "rowing" or scenic:
        graph["muscle_group_score"] = _muscle_groups(ctx) if shape == "rowing" else []
    return graph


_DRILL_SHAPES = {"cycling_scenic_fixed_distance", "rowing", "running_no_device_metrics"}
Parts = tuple[list[dict], list[dict], list[dict]]  # metrics, average summaries, summaries


class _Sampler:
    """Turns per-second values into the graph's points: windows of `step` seconds, minus the
    seconds a gappy workout lost."""

    def __init__(self, ctx: Context, step: int) -> None:
        self.step = step
        ends = range(step, ctx.seconds + 1, step)
        self.keep = _kept_points(ctx) if ctx.gaps else None
        self.seconds = [s for s in ends if self.keep is None or s in self.keep]

    def __call__(self, values: list | None, digits: int | None = None, *,
                 zero_is_missing: bool = False) -> list:  # fmt: skip
        """Values at the graph's seconds; `digits` set: tenths in, floats out."""
        if values is None:
            return []
        out = _points(values, self.step, digits, zero_is_missing)
        if self.keep is None:
            return out
        ends = range(self.step, len(values) + 1, self.step)
        return [v for s, v in zip(ends, out, strict=True) if s in self.keep]


def _cycling_parts(ctx: Context, t: Totals, c: Curves, points: _Sampler) -> Parts:
    a = ctx.athlete
    speed = t.average(t.speed10, 10, 1)
    metrics = [
        _metric("Output", "watts", "output", points(c.output), t.average(t.output)),
        _metric("Cadence", "rpm", "cadence", points(c.cadence), t.average(t.cadence)),
        _metric("Resistance", "%", "resistance", points(c.resistance), t.average(t.resistance)),
        _metric("Speed", a.speed_unit, "speed", points(c.speed10, 1), speed),
    ]
    averages = [
        _summary("Avg Output", "watts", t.average(t.output), "avg_output"),
        _summary("Avg Cadence", "rpm", t.average(t.cadence), "avg_cadence"),
        _summary("Avg Resistance", "%", t.average(t.resistance), "avg_resistance"),
        _summary("Avg Speed", a.speed_unit, speed, "avg_speed"),
    ]
    summaries = [
        _summary("Total Output", "kj", t.kj, "total_output"),
        _summary("Distance", a.distance_unit, t.distance, "distance"),
        _summary("Calories", "kcal", t.calories, "calories"),
    ]
    if ctx.kind.name == "scenic":
        minutes = round(t.seconds / 60, 2) if t.seconds else None
        summaries.insert(0, _summary("Duration", "min", minutes, "duration"))
    return metrics, averages, summaries


def _on_foot_parts(ctx: Context, t: Totals, c: Curves, points: _Sampler) -> Parts:
    """Tread and outdoor: pace (with speed as its alternative), then incline or altitude."""
    a = ctx.athlete
    speed = points(c.speed10, 1)
    avg_speed = t.average(t.speed10, 10, 1)
    avg_pace = _pace(avg_speed) if avg_speed else None
    fastest = _pace(max(speed)) if speed and max(speed) > 0 else None
    pace = _metric("Pace", a.pace_unit, "pace", [_pace(s) for s in speed], avg_pace, fastest)
    pace["alternatives"] = [_metric("Speed", a.speed_unit, "speed", speed, avg_speed)]
    averages = [
        _summary("Avg Pace", a.pace_unit, avg_pace, "avg_pace"),
        _summary("Avg Speed", a.speed_unit, avg_speed, "avg_speed"),
    ]
    summaries = [
        _summary("Distance", a.distance_unit, t.distance, "distance"),
        _summary("Elevation", a.elevation_unit, t.elevation, "elevation"),
        _summary("Calories", "kcal", t.calories, "calories"),
    ]
    if ctx.family == "outdoor":
        altitude = _metric("Elevation", a.elevation_unit, "altitude", points(c.altitude), None)
        altitude["max_value"] = None  # the real API leaves both out for altitude
        return [pace, altitude], averages, summaries
    incline = t.average(t.incline10, 10, 1)
    output = _metric("Output", "watts", "output", points(c.output), t.average(t.output))
    metrics = [output, pace, _metric("Incline", "%", "incline", points(c.incline10, 1), incline)]
    averages = [
        _summary("Avg Output", "watts", t.average(t.output), "avg_output"),
        averages[0],
        _summary("Avg Incline", "%", incline, "avg_incline"),
        averages[1],
    ]
    return metrics, averages, [_summary("Total Output", "kj", t.kj, "total_output"), *summaries]


def _rowing_parts(ctx: Context, t: Totals, c: Curves, points: _Sampler) -> Parts:
    """The Row: its speed (tenths of m/s) is shown only as pace per 500 m."""
    pace = [round(500 / s / 60, 2) if s else 0.0 for s in points(c.speed10, 1)]
    avg_mps = t.average(t.speed10, 10, 3)
    avg_pace = round(500 / avg_mps / 60, 2) if avg_mps else None
    fastest = min((p for p in pace if p), default=None)
    metrics = [
        _metric("Stroke Output", "watts", "output", points(c.output), t.average(t.output)),
        _metric("Stroke Rate", "spm", "stroke_rate", points(c.stroke_rate),
                t.average(t.stroke_rate)),
        _metric("Pace", "min/500m", "split_pace", pace, avg_pace, fastest),
    ]  # fmt: skip
    averages = [
        _summary("Avg Stroke Output", "watts", t.average(t.output), "avg_output"),
        _summary("Avg Stroke Rate", "spm", t.average(t.stroke_rate), "avg_stroke_rate"),
        _summary("Avg Pace", "min/500m", avg_pace, "avg_split_pace"),
    ]
    strokes = round((t.stroke_rate or 0) / 60) if t.seconds else None
    metres = round((t.speed10 or 0) / 10, 2) if t.seconds else None
    summaries = [
        _summary("Total Output", "kj", t.kj, "total_output"),
        _summary("Distance", "m", metres, "distance"),
        _summary("Strokes", None, strokes, "stroke_count"),
        _summary("Calories", "kcal", t.calories, "calories"),
    ]
    return metrics, averages, summaries


def _floor_parts(ctx: Context, t: Totals, c: Curves, points: _Sampler) -> Parts:
    """No metrics: strength, yoga, stretching, meditation, and running without sensors."""
    if ctx.kind.name == "meditation":
        return [], [], []
    return [], [], [_summary("Calories", "kcal", t.calories, "calories")]


_PARTS = {
    "cycling": _cycling_parts,
    "tread": _on_foot_parts,
    "outdoor": _on_foot_parts,
    "rowing": _rowing_parts,
}


def _kept_points(ctx: Context) -> set[int]:
    """The seconds a gappy workout still has: a few stretches of 2-40 s go missing."""
    n = ctx.seconds
    r = rng_for(ctx.seed, "gaps", ctx.index)
    missing: set[int] = set()
    for _ in range(max(1, n // 600)):
        start = r.randint(0, max(0, n - 1))
        missing.update(range(start, start + r.randint(2, 40)))
    return set(range(n + 1)) - missing


def _cumulative(speed10: list[int], per: float) -> list[float]:
    """Distance covered after each second, from tenths of a unit per hour (or per `per`)."""
    out, total = [], 0.0
    for s in speed10:
        total += s / 10 / per
        out.append(total)
    return out


def _splits_data(ctx: Context, c: Curves) -> dict:
    a = ctx.athlete
    body: dict = {
        "distance_marker_display_unit": a.distance_unit,
        "elevation_change_display_unit": a.elevation_unit,
        "splits": [],
    }
    if c.speed10 is None:
        return body
    scenic = ctx.kind.name == "scenic"
    distance = _cumulative(c.speed10, 3600)
    crossings = [i + 1 for i in range(1, len(distance)) if int(distance[i]) > int(distance[i - 1])]
    ends = crossings + ([len(distance)] if distance and distance[-1] % 1 > 0.01 else [])
    splits, start = [], 0
    for order, end in enumerate(ends, 1):
        marker = 1.0 if end in crossings else round(distance[-1] % 1, 2)
        climb = None
        if not scenic:
            if c.altitude:
                climb = float(max(0, c.altitude[end - 1] - c.altitude[start]))
            elif c.incline10:
                rise = sum(
                    s * i for s, i in zip(c.speed10[start:end], c.incline10[start:end], strict=True)
                )
                climb = float(round(rise / 10 / 3600 / 1000 * (1000 if a.metric else 5280)))
        split = {"seconds": float(end - start), "distance_marker": marker}
        if scenic:
            split = {
                "distance_marker": marker,
                "order": order,
                "seconds": float(end - start),
                "elevation_change": None,
                "has_floor_segment": False,
            }
        else:
            split |= {"elevation_change": climb, "order": order}
        splits.append(split)
        start = end
    full = [s for s in splits if s["distance_marker"] == 1.0]
    best = min(full, key=lambda s: s["seconds"]) if full else None
    for s in splits:
        s["is_best"] = s is best
    body["splits"] = splits
    return body


def _location_data(ctx: Context, c: Curves) -> list[dict]:
    """GPS points, one a second, walking away from home along a wandering heading."""
    a = ctx.athlete
    r = rng_for(ctx.seed, "gps", ctx.index)
    lat, lon = a.home[0] + r.uniform(-0.02, 0.02), a.home[1] + r.uniform(-0.02, 0.02)
    heading = r.uniform(0, 2 * math.pi)
    metres_per_unit = 1000 if a.metric else 1609.344
    distance = _cumulative(c.speed10 or [], 3600)
    segments = ctx.ride.segments if ctx.ride else ()
    out = [{"segment_id": s.id, "is_gap": False, "coordinates": []} for s in segments] or [
        {
            "segment_id": hex_id(ctx.seed, "gps-segment", ctx.index),
            "is_gap": False,
            "coordinates": [],
        }
    ]
    rand = r.random
    cos = math.cos
    sin = math.sin
    part = 0
    for i, s10 in enumerate(c.speed10 or []):
        metres = s10 / 10 / 3600 * metres_per_unit
        heading += (rand() - 0.5) * 0.1
        lat += metres * cos(heading) / 111_320
        lon += metres * sin(heading) / (111_320 * cos(math.radians(lat)))
        while part + 1 < len(segments) and i >= segments[part + 1].start:
            part += 1
        out[min(part, len(out) - 1)]["coordinates"].append(
            {
                "seconds_offset_from_start": i + 1,
                "latitude": round(lat, 5),
                "longitude": round(lon, 5),
                "accuracy": round(3 + rand() * 14, 2),
                "distance": round(distance[i], 2),
                "distance_display_unit": a.distance_unit,
            }
        )
    return [segment for segment in out if segment["coordinates"]]


def _targets(ctx: Context) -> dict:
    """Target speed and incline of Tread and running classes; empty for everything else."""
    if ctx.ride is None or (ctx.family != "tread" and ctx.kind.name != "running_app"):
        return {"target_metrics": [], "time_in_metric": []}
    r = rng_for(ctx.seed, "targets", ctx.ride.id)
    offset = ctx.ride.pedaling_start_offset
    targets = []
    start = offset
    end_of_class = offset + ctx.ride.duration
    while start < end_of_class:
        end = min(end_of_class, start + r.randint(12, 200))
        low = r.choice((1.0, 2.0, 2.5, 3.0, 4.0))
        incline = r.choice((0.0, 0.0, 1.5, 3.0))
        targets.append(
            {
                "offsets": {"start": start, "end": end},
                "segment_type": "running",
                "metrics": [
                    {"name": "speed", "upper": low + r.choice((0.5, 1.0, 2.0)), "lower": low},
                    {"name": "incline", "upper": incline + 1.0, "lower": incline},
                ],
            }
        )
        start = end + 1
    return {
        "target_metrics": targets,
        "time_in_metric": [
            {"name": "speed", "value": r.randint(0, 100) if ctx.family == "tread" else 0},
            {"name": "incline", "value": r.randint(0, 100)},
        ],
    }


def _caesar_metrics(ctx: Context, c: Curves) -> dict:
    """The Row's per-stroke record and form scores."""
    r = rng_for(ctx.seed, "strokes", ctx.index)
    strokes = []
    t = 0.0
    for i, rate in enumerate(c.stroke_rate or []):
        if i + 1 >= t + 60 / max(rate, 1):
            t = i + 1
            errors = [{"type": "open_early"}] if r.random() < 0.05 else []
            watts = float((c.output or [0])[i]) + r.random()
            strokes.append(
                {
                    "id": len(strokes) + 1,
                    "seconds_since_pedaling_start": i + 1,
                    "output": watts,
                    "stroke_rate": float(rate),
                    "errors": errors,
                }
            )
    outputs = [s["output"] for s in strokes]
    segments = []
    for part, errors in (
        ("catch", ("over_compress", "under_compress")),
        ("drive", ("shoot_slide", "open_early")),
        ("finish", ("too_much_layback", "too_little_layback")),
        ("recovery", ("bend_knees_early",)),
    ):
        media = hex_id(ctx.seed, "form-video", part)
        segments.append(
            {
                "type": part,
                "percent_of_good": r.randint(70, 100),
                "errors": [
                    {
                        "type": e,
                        "percent_of_strokes": r.randint(0, 20),
                        "media_id": hex_id(ctx.seed, "form-video", e),
                    }
                    for e in errors
                ],
                "url": f"{IMAGES}/form-videos/{part}.mp4",
                "media_id": media,
            }
        )
    return {
        "output": {
            "slug": "stroke_output",
            "display_name": "Stroke Output",
            "display_unit": "watts",
            "max_value": round(max(outputs), 2) if outputs else None,
            "average_value": round(sum(outputs) / len(outputs), 2) if outputs else None,
            "data": strokes,
        },
        "detail": {"score": r.randint(70, 98), "user_avg_score": None, "segments": segments},
    }


def _rowing_splits(c: Curves) -> dict:
    """Per-500 m splits of a Row."""
    header = [
        {"slug": "meter", "display_name": "Meters"},
        {"slug": "total_time", "display_name": "Total Time"},
        {"slug": "pace", "display_name": "min/500m"},
        {"slug": "spm", "display_name": "spm"},
        {"slug": "avg_output", "display_name": "Avg Output"},
        {"slug": "form_score", "display_name": "Form Rating"},
    ]
    metres = _cumulative(c.speed10 or [], 1)
    ends = [i + 1 for i in range(1, len(metres)) if int(metres[i] / 500) > int(metres[i - 1] / 500)]
    if metres and metres[-1] % 500 > 1:
        ends.append(len(metres))
    rows, start = [], 0
    for end in ends:
        full = int(metres[end - 1] / 500) > int(metres[start - 1] / 500 if start else 0)
        covered = metres[end - 1] - (metres[start - 1] if start else 0.0)
        marker = float(int(metres[end - 1] / 500) * 500) if full else covered
        seconds = end - start
        if seconds <= 0:  # the last 500 m ended on the workout's last second: no remainder row
            continue
        rows.append(
            {
                "is_best": False,
                "has_floor_segment": False,
                "data": [
                    {"slug": "meter", "value": marker, "unit": "m"},
                    {"slug": "total_time", "value": round(end / 60, 2), "unit": "min"},
                    {
                        "slug": "pace",
                        "value": round(seconds / 60 * 500 / max(covered, 1), 2),
                        "unit": "min/500m",
                    },
                    {
                        "slug": "spm",
                        "value": round(sum((c.stroke_rate or [0])[start:end]) / seconds),
                        "unit": None,
                    },
                    {
                        "slug": "avg_output",
                        "value": round(sum((c.output or [0])[start:end]) / seconds),
                        "unit": "w",
                    },
                    {
                        "slug": "form_score",
                        "value": round(80 + 20 * ((end * 7919) % 100) / 100, 2),
                        "unit": "%",
                    },
                ],
            }
        )
        start = end
    full_rows = [row for row in rows if row["data"][0]["value"] % 500 == 0]
    if full_rows:
        min(full_rows, key=lambda row: row["data"][2]["value"])["is_best"] = True
    return {"header": header, "metrics": rows}


def _muscle_groups(ctx: Context) -> list[dict]:
    r = rng_for(ctx.seed, "muscles", ctx.index)
    groups = ("biceps", "core", "glutes", "hamstrings", "lats", "quads", "triceps")
    scores = [float(r.choice((390, 780, 1170))) for _ in groups]
    total = sum(scores)
    return [
        {
            "muscle_group": g,
            "score": s,
            "percentage": round(100 * s / total),
            "bucket": int(s // 390),
            "display_name": g.replace("_", " ").title(),
        }
        for g, s in zip(groups, scores, strict=True)
    ]
