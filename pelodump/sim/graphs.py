"""A simulated workout's numbers: its totals (cheap) and its performance graph (on demand).

`totals()` decides a workout's sums from a few random draws: joules, revolutions, distance, seconds
in each heart-rate zone. `performance_graph()` then draws per-second curves with the right look
(warm-up, intervals, cool-down, heart rate lagging effort) and fits them to those sums exactly. So
pages, the CSV export and the workout bodies agree with the graphs without ever generating a
graph, and a graph is generated only when asked for, never kept.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from math import gcd

from pelodump.sim.catalog import IMAGES, Kind, Ride, hex_id, rng_for, segment_body

MI_PER_KM = 0.621371
ZONE_EFFORT = (0.2, 0.6, 1.4, 2.4, 3.5)  # effort points per minute in each zone


@dataclass(frozen=True)
class Athlete:
    """What the member's numbers depend on."""

    metric: bool
    ftp: int
    max_hr: int
    rest_hr: int
    weight_kg: float
    home: tuple[float, float]  # latitude, longitude where outdoor workouts start

    @property
    def distance_unit(self) -> str:
        return "km" if self.metric else "mi"

    @property
    def speed_unit(self) -> str:
        return "kph" if self.metric else "mph"

    @property
    def pace_unit(self) -> str:
        return "min/km" if self.metric else "min/mi"

    @property
    def elevation_unit(self) -> str:
        return "m" if self.metric else "ft"

    def zone_bounds(self) -> list[tuple[int, int]]:
        """(min, max) bpm of zones 1..5, as Peloton cuts them: 65/75/85/95 % of max."""
        cuts = [math.floor(self.max_hr * f) for f in (0.65, 0.75, 0.85, 0.95)]
        lows = [0, *cuts]
        highs = [c - 1 for c in cuts] + [self.max_hr]
        return list(zip(lows, highs, strict=True))


@dataclass(frozen=True)
class Context:
    """Everything one workout's numbers are drawn from."""

    seed: int
    index: int
    kind: Kind
    ride: Ride | None
    athlete: Athlete
    seconds: int  # how long it actually went on (0 for a zero-length workout)
    has_hr: bool
    spacing5: bool  # an older workout whose graph comes back at 5-s spacing whatever is asked
    gaps: bool  # seconds missing from the graph here and there
    old_shape: bool  # the older graph layout, without location_data

    @property
    def family(self) -> str:
        """Which metrics it records: cycling, tread, outdoor, rowing, or none."""
        name = self.kind.name
        if name in ("cycling_class", "just_ride", "scenic"):
            return "cycling"
        if name in ("tread_run", "tread_walk"):
            return "tread"
        if name in ("outdoor_walk", "outdoor_run"):
            return "outdoor"
        return "rowing" if name == "rowing" else "none"

    @property
    def running(self) -> bool:
        return self.kind.discipline == "running"


@dataclass(frozen=True)
class Totals:
    """The workout's sums, decided before (and without) any graph."""

    seconds: int
    output: int | None = None  # joules: the sum of per-second watts
    work_fraction: float = 0.0  # sub-joule part of total_work, as the device reports it
    cadence: int | None = None  # sum of per-second rpm
    resistance: int | None = None  # sum of per-second %
    speed10: int | None = None  # sum of per-second tenths of mph/kph (rowing: of m/s)
    incline10: int | None = None  # sum of per-second tenths of %
    stroke_rate: int | None = None  # sum of per-second spm
    hr_missing: int = 0  # leading seconds without heart rate (the strap connecting)
    zones: tuple[int, ...] | None = None  # seconds in zones 1..5
    elevation: int | None = None  # gained, in ft or m
    calories: int | None = None

    @property
    def total_work(self) -> float:
        return round((self.output or 0) + self.work_fraction, 2)

    @property
    def kj(self) -> int | None:
        return None if self.output is None or not self.seconds else round(self.total_work / 1000)

    def average(
        self, total: int | None, scale: float = 1.0, digits: int | None = 0
    ) -> float | None:
        if total is None or not self.seconds:
            return None
        value = total / scale / self.seconds
        return round(value) if digits == 0 else round(value, digits)

    @property
    def distance(self) -> float | None:
        """In the member's unit (rowing: metres)."""
        if self.speed10 is None or not self.seconds:
            return None
        return round(self.speed10 / 10 / 3600, 2)

    @property
    def hr_points(self) -> int:
        return sum(self.zones) if self.zones else 0

    def hr_sum(self, bounds: list[tuple[int, int]], rest_hr: int) -> int:
        """The sum of heart-rate values, known in closed form (see `_heart_rate`)."""
        total = 0
        for (low, high), d in zip(
            _zone_value_ranges(bounds, rest_hr), self.zones or (), strict=False
        ):
            if d:
                m = high - low + 1
                total += d * low + ((m - 1) * (d - 1) + gcd(m, d) - 1) // 2
        return total

    def effort_points(self) -> float:
        return round(
            sum(d * k for d, k in zip(self.zones or (), ZONE_EFFORT, strict=False)) / 60, 2
        )


def _zone_value_ranges(bounds: list[tuple[int, int]], rest_hr: int) -> list[tuple[int, int]]:
    """The values a zone's seconds take: zone 1 starts near resting heart rate, not at 0."""
    (_, z1_high), *rest = bounds
    return [(min(rest_hr + 8, z1_high), z1_high), *rest]


# --- totals ------------------------------------------------------------------------------------

_CYCLING_INTENSITY = {
    "Low Impact": 0.5,
    "Endurance": 0.6,
    "Music": 0.63,
    "Power Zone": 0.68,
    "Climb": 0.7,
    "Intervals": 0.72,
    "HIIT": 0.74,
}


def totals(ctx: Context) -> Totals:
    """The workout's sums; a few random draws, cheap enough for a 30,000-row CSV."""
    r = rng_for(ctx.seed, "totals", ctx.index)
    n = ctx.seconds
    a = ctx.athlete
    family = ctx.family
    if n == 0:
        return Totals(seconds=0)
    zones = missing = None
    intensity = 0.6
    t: dict = {"seconds": n}
    if family == "cycling":
        base = _CYCLING_INTENSITY.get(ctx.ride.class_type if ctx.ride else "", 0.6)
        intensity = base + r.uniform(-0.08, 0.1)
        watts = a.ftp * intensity
        rpm = r.uniform(74, 92)
        resistance = min(70.0, max(15.0, math.log(watts / (rpm * 0.125)) / 0.06))
        speed = 1.6 * math.sqrt(watts) * 0.99 / (MI_PER_KM if a.metric else 1)
        t |= {
            "output": round(watts * n),
            "work_fraction": round(r.random(), 2),
            "cadence": round(rpm * n),
            "resistance": round(resistance * n),
            "speed10": round(speed * 10 * n),
            "calories": round(watts * n / 1000 * r.uniform(1.0, 1.25)),
        }
    elif family in ("tread", "outdoor"):
        mph = r.uniform(5.0, 7.5) if ctx.running else r.uniform(2.8, 3.8)
        incline = (r.uniform(0.5, 2.0) if ctx.running else r.uniform(1.5, 6.0)) * (
            family == "tread"
        )
        intensity = min(0.9, mph / 11.0 + incline / 30 + 0.1)
        speed = mph / (MI_PER_KM if a.metric else 1)
        distance = speed * n / 3600
        if family == "tread":
            climbed = distance * (1000 if a.metric else 5280) * incline / 100
        else:
            climbed = r.uniform(3, 25) * distance
        mets = 1.6 * mph if ctx.running else 1.1 * mph
        t |= {
            "speed10": round(speed * 10 * n),
            "elevation": round(climbed),
            "calories": round(mets * a.weight_kg * n / 3600),
        }
        if family == "tread":
            watts = a.weight_kg * 9.81 * mph * 0.44704 * (0.1 + incline / 100)
            t |= {"output": round(watts * n), "work_fraction": round(r.random(), 2)}
            t["incline10"] = round(incline * 10 * n)
    elif family == "rowing":
        watts = r.uniform(60, 140)
        intensity = 0.45 + watts / 300
        t |= {
            "output": round(watts * n),
            "work_fraction": round(r.random(), 2),
            "stroke_rate": round(r.uniform(18, 27) * n),
            "speed10": round((watts / 2.8) ** (1 / 3) * 10 * n),
            "calories": round(ctx.kind.mets * a.weight_kg * n / 3600 * r.uniform(0.9, 1.2)),
        }
    else:
        mets = ctx.kind.mets if ctx.kind.name != "running_app" else 8.0
        t["calories"] = round(mets * a.weight_kg * n / 3600 * r.uniform(0.85, 1.15))
    if ctx.has_hr:
        missing = min(n, r.choice((0, 0, 0, 1, 2, r.randint(5, 90))))
        zones = _zone_split(r, n - missing, intensity)
        t |= {"hr_missing": missing, "zones": zones}
    return Totals(**t)


def _zone_split(r: random.Random, points: int, intensity: float) -> tuple[int, ...]:
    """Seconds per zone: most time around the zone the intensity points at."""
    center = intensity * 3.3 - 0.3 + r.uniform(-0.4, 0.4)
    weights = [math.exp(-((z - center) ** 2) / 1.3) for z in range(5)]
    total = sum(weights)
    durations = [int(points * w / total) for w in weights]
    durations[min(4, max(0, round(center)))] += points - sum(durations)
    return tuple(durations)


# --- per-second curves -------------------------------------------------------------------------


def _fit(raw: list[float], target: int, low: int = 0) -> list[int]:
    """Integers shaped like `raw` whose sum is exactly `target` (none below `low`)."""
    n = len(raw)
    if not n:
        return []
    total = sum(raw)
    scale = target / total if total > 0 else 0.0
    values = [max(low, int(x * scale + 0.5)) for x in raw]
    diff = target - sum(values)
    step = 1 if diff > 0 else -1
    i = 0
    while diff:
        index = (i * 7919) % n  # spread the correction instead of piling it on one stretch
        if step > 0 or values[index] > low:
            values[index] += step
            diff -= step
        i += 1
    return values


def _effort(r: random.Random, ctx: Context) -> list[float]:
    """Relative effort per second (about 0.3 to 1.3): blocks of steady work that follow the class
    plan, smoothed the way legs and machines smooth them."""
    n = ctx.seconds
    segments = ctx.ride.segments if ctx.ride else ()
    levels: list[float] = []
    while len(levels) < n:
        t = len(levels)
        base = 0.85
        for s in segments:
            if s.start <= t < s.start + s.length:
                base = {"warmup": 0.55, "cooldown": 0.4}.get(s.icon, 0.9)
        levels.extend([base * r.uniform(0.75, 1.3)] * r.randint(20, 150))
    out = []
    x = levels[0] if levels else 0.0
    rand = r.random
    for level in levels[:n]:
        x += (level - x) * 0.12 + (rand() - 0.5) * 0.03
        out.append(x)
    return out


def _noisy(r: random.Random, base: list[float], spread: float) -> list[float]:
    rand = r.random
    return [max(0.0, b * (1 + (rand() - 0.5) * spread)) for b in base]


def _heart_rate(r: random.Random, ctx: Context, totals_: Totals, effort: list[float]) -> list[int]:
    """Per-second heart rate: a lagging response to effort, mapped by rank onto the zone seconds
    decided in `totals`, so the zones and the average agree with the graph exactly."""
    n = ctx.seconds
    missing = totals_.hr_missing
    zones = totals_.zones or (0, 0, 0, 0, 0)
    lagged = []
    h = effort[missing] if missing < n else 0.0
    rand = r.random
    for e in effort[missing:]:
        h += (e - h) / 30 + (rand() - 0.5) * 0.004
        lagged.append(h)
    order = sorted(range(len(lagged)), key=lagged.__getitem__)
    values = [0] * len(lagged)
    ranges = _zone_value_ranges(ctx.athlete.zone_bounds(), ctx.athlete.rest_hr)
    position = 0
    for (low, high), d in zip(ranges, zones, strict=True):
        m = high - low + 1
        for j in range(d):
            values[order[position]] = low + (m * j) // d
            position += 1
    return [0] * missing + values


@dataclass
class Curves:
    """One workout's per-second values (index i is second i + 1)."""

    output: list[int] | None = None
    cadence: list[int] | None = None
    resistance: list[int] | None = None
    speed10: list[int] | None = None
    incline10: list[int] | None = None
    stroke_rate: list[int] | None = None
    heart_rate: list[int] | None = None
    altitude: list[int] | None = None


def curves(ctx: Context, t: Totals) -> Curves:
    """Draw the per-second values of a workout, fitted to its totals."""
    r = rng_for(ctx.seed, "curves", ctx.index)
    n = ctx.seconds
    c = Curves()
    if n == 0:
        return c
    effort = _effort(r, ctx)
    family = ctx.family
    if family == "cycling":
        rand = r.random
        cadence = [60 + 28 * e + (rand() - 0.5) * 6 for e in effort]
        resistance = [18 + 30 * e + (rand() - 0.5) * 2 for e in effort]
        exp = math.exp
        watts = [cd * 0.125 * exp(0.06 * rs) for cd, rs in zip(cadence, resistance, strict=True)]
        c.output = _fit(watts, t.output or 0)
        c.cadence = _fit(cadence, t.cadence or 0)
        c.resistance = _fit(resistance, t.resistance or 0, low=1)
        sqrt = math.sqrt
        c.speed10 = _fit([sqrt(w) for w in c.output], t.speed10 or 0)
    elif family in ("tread", "outdoor"):
        walk_in = 0 if family == "outdoor" else r.randint(3, 12)  # the belt starts slowly
        speed = [0.0] * walk_in + _noisy(r, [0.7 + 0.3 * e for e in effort[walk_in:]], 0.04)
        if family == "outdoor":  # a phone loses its fix for a moment now and then
            for start in r.sample(range(n), k=min(n, 3)):
                for i in range(start, min(n, start + r.randint(1, 4))):
                    speed[i] = 0.0
        c.speed10 = _fit(speed, t.speed10 or 0)
        if t.incline10 is not None:
            incline = [float(round(4 * e)) for e in effort]
            c.incline10 = _fit(incline, t.incline10)
            grade = [0.1 + i / 1000 for i in c.incline10]
            c.output = _fit([s * g for s, g in zip(c.speed10, grade, strict=True)], t.output or 0)
        if family == "outdoor":
            c.altitude = _altitude(r, n, t.elevation or 0, ctx.athlete.metric)
    elif family == "rowing":
        rand = r.random
        rate = [14 + 12 * e + (rand() - 0.5) * 2 for e in effort]
        c.stroke_rate = _fit(rate, t.stroke_rate or 0, low=1)
        c.output = _fit([e**2 * (1 + (rand() - 0.5) * 0.2) for e in effort], t.output or 0)
        c.speed10 = _fit([(w / 2.8) ** (1 / 3) + 0.5 for w in c.output], t.speed10 or 0)
    if ctx.has_hr and t.zones:
        c.heart_rate = _heart_rate(r, ctx, t, effort)
    return c


def _altitude(r: random.Random, n: int, gain: int, metric: bool) -> list[int]:
    """A hill: up by exactly `gain` over the first part, partly down again."""
    base = r.randint(50, 400) if metric else r.randint(150, 1300)
    top = max(1, int(n * r.uniform(0.4, 0.7)))
    up = [base + round(gain * (i / top) ** 1.5) for i in range(top)]
    down = [base + gain - round(gain * 0.6 * (i / max(1, n - top))) for i in range(n - top)]
    return up + down


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
    a = ctx.athlete
    step = 5 if ctx.spacing5 else max(1, every_n)
    n = ctx.seconds
    keep = _kept_points(ctx, n, step)
    seconds = [s for s in range(step, n + 1, step) if s in keep] if ctx.gaps else None
    if seconds is None:
        seconds = list(range(step, n + 1, step))

    def sample(values: list | None, digits: int | None = None, zero_is_missing=False) -> list:
        if values is None:
            return []
        points = _points(values, step, digits, zero_is_missing)
        return (
            [v for s, v in zip(range(step, n + 1, step), points, strict=False) if s in keep]
            if ctx.gaps
            else points
        )

    family = ctx.family
    metrics: list[dict] = []
    averages: list[dict] = []
    summaries: list[dict] = []
    speed = sample(c.speed10, 1)
    if family == "cycling":
        metrics = [
            _metric("Output", "watts", "output", sample(c.output), t.average(t.output)),
            _metric("Cadence", "rpm", "cadence", sample(c.cadence), t.average(t.cadence)),
            _metric("Resistance", "%", "resistance", sample(c.resistance), t.average(t.resistance)),
            _metric("Speed", a.speed_unit, "speed", speed, t.average(t.speed10, 10, 1)),
        ]
        averages = [
            _summary("Avg Output", "watts", t.average(t.output), "avg_output"),
            _summary("Avg Cadence", "rpm", t.average(t.cadence), "avg_cadence"),
            _summary("Avg Resistance", "%", t.average(t.resistance), "avg_resistance"),
            _summary("Avg Speed", a.speed_unit, t.average(t.speed10, 10, 1), "avg_speed"),
        ]
        summaries = [
            _summary("Total Output", "kj", t.kj, "total_output"),
            _summary("Distance", a.distance_unit, t.distance, "distance"),
            _summary("Calories", "kcal", t.calories, "calories"),
        ]
        if ctx.kind.name == "scenic":
            summaries.insert(
                0, _summary("Duration", "min", round(n / 60, 2) if n else None, "duration")
            )
    elif family in ("tread", "outdoor"):
        avg_speed = t.average(t.speed10, 10, 1)
        pace_metric = _metric(
            "Pace",
            a.pace_unit,
            "pace",
            [_pace(s) for s in speed],
            _pace(avg_speed) if avg_speed else None,
            peak=_pace(max(speed)) if speed and max(speed) > 0 else None,
        )
        pace_metric["alternatives"] = [_metric("Speed", a.speed_unit, "speed", speed, avg_speed)]
        avg_pace = _summary(
            "Avg Pace", a.pace_unit, _pace(avg_speed) if avg_speed else None, "avg_pace"
        )
        avg_speed_summary = _summary("Avg Speed", a.speed_unit, avg_speed, "avg_speed")
        distance = _summary("Distance", a.distance_unit, t.distance, "distance")
        elevation = _summary("Elevation", a.elevation_unit, t.elevation if n else None, "elevation")
        calories = _summary("Calories", "kcal", t.calories, "calories")
        if family == "tread":
            metrics = [
                _metric("Output", "watts", "output", sample(c.output), t.average(t.output)),
                pace_metric,
                _metric(
                    "Incline", "%", "incline", sample(c.incline10, 1), t.average(t.incline10, 10, 1)
                ),
            ]
            averages = [
                _summary("Avg Output", "watts", t.average(t.output), "avg_output"),
                avg_pace,
                _summary("Avg Incline", "%", t.average(t.incline10, 10, 1), "avg_incline"),
                avg_speed_summary,
            ]
            summaries = [
                _summary("Total Output", "kj", t.kj, "total_output"),
                distance,
                elevation,
                calories,
            ]
        else:
            metrics = [
                pace_metric,
                _metric(
                    "Elevation", a.elevation_unit, "altitude", sample(c.altitude), None, peak=None
                ),
            ]
            metrics[1]["max_value"] = None  # the real API leaves these out for altitude
            averages = [avg_pace, avg_speed_summary]
            summaries = [distance, elevation, calories]
    elif family == "rowing":
        pace = [round(500 / s / 60, 2) if s else None for s in speed]
        avg_mps = t.average(t.speed10, 10, 3)
        metrics = [
            _metric("Stroke Output", "watts", "output", sample(c.output), t.average(t.output)),
            _metric(
                "Stroke Rate", "spm", "stroke_rate", sample(c.stroke_rate), t.average(t.stroke_rate)
            ),
            _metric(
                "Pace",
                "min/500m",
                "split_pace",
                [p if p is not None else 0.0 for p in pace],
                round(500 / avg_mps / 60, 2) if avg_mps else None,
                peak=min((p for p in pace if p), default=None),
            ),
        ]
        averages = [
            _summary("Avg Stroke Output", "watts", t.average(t.output), "avg_output"),
            _summary("Avg Stroke Rate", "spm", t.average(t.stroke_rate), "avg_stroke_rate"),
            _summary("Avg Pace", "min/500m", metrics[2]["average_value"], "avg_split_pace"),
        ]
        summaries = [
            _summary("Total Output", "kj", t.kj, "total_output"),
            _summary("Distance", "m", t.distance and round(t.speed10 / 10, 2), "distance"),
            _summary(
                "Strokes", None, round((t.stroke_rate or 0) / 60) if n else None, "stroke_count"
            ),
            _summary("Calories", "kcal", t.calories, "calories"),
        ]
    elif ctx.kind.name != "meditation":
        summaries = [_summary("Calories", "kcal", t.calories, "calories")]
    if c.heart_rate is not None:
        metrics.append(_hr_metric(ctx, t, sample(c.heart_rate, zero_is_missing=True)))
    if n == 0:  # nothing recorded: the arrays are empty and every summary value is null
        for m in metrics:
            m["max_value"] = m["average_value"] = None
            for alt in m.get("alternatives", []):
                alt["max_value"] = alt["average_value"] = None

    ride = ctx.ride
    with_drill = ctx.kind.shape in (
        "cycling_scenic_fixed_distance",
        "rowing",
        "running_no_device_metrics",
    )
    graph: dict = {
        "duration": ride.duration if ride and ctx.kind.name not in ("scenic",) else n,
        "is_class_plan_shown": ctx.kind.name not in ("just_ride", "scenic"),
        "segment_list": [segment_body(s, with_drill=with_drill) for s in ride.segments]
        if ride
        else [],
        "seconds_since_pedaling_start": seconds,
        "average_summaries": averages,
        "summaries": summaries,
        "metrics": metrics,
        "has_apple_watch_metrics": False,
    }
    shape = ctx.kind.shape
    if shape == "rowing":
        graph["caesar_metrics"] = _caesar_metrics(ctx, c)
        graph["splits_metrics"] = _rowing_splits(c, t)
    else:
        if not ctx.old_shape and shape != "cycling_scenic_fixed_distance":
            outdoor = family == "outdoor" and gps
            graph["location_data"] = _location_data(ctx, c) if outdoor else []
            graph["is_location_data_accurate"] = True if outdoor else None
        graph["splits_data"] = (
            _splits_data(ctx, c)
            if family in ("tread", "outdoor")
            or shape in ("cycling_scenic_fixed_distance", "running_no_device_metrics")
            else {}
        )
        if shape == "cycling_scenic_fixed_distance":
            graph["splits_metrics"] = {}
    graph["target_metrics_performance_data"] = _targets(ctx)
    modern = shape in ("rowing", "cycling_scenic_fixed_distance") or family in ("tread", "outdoor")
    graph["effort_zones"] = effort_zones_body(t) if modern else None
    if shape == "rowing":
        graph["muscle_group_score"] = _muscle_groups(ctx)
    elif shape == "cycling_scenic_fixed_distance":
        graph["muscle_group_score"] = []
    return graph


def _kept_points(ctx: Context, n: int, step: int) -> set[int] | range:
    """The seconds a gappy workout still has: a few stretches of 2-40 s go missing."""
    if not ctx.gaps:
        return range(0, n + 1)
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
                "url": f"{STREAMS_FORM}/{part}.mp4",
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


STREAMS_FORM = f"{IMAGES}/form-videos"


def _rowing_splits(c: Curves, t: Totals) -> dict:
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
