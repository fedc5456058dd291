"""A simulated workout's numbers: its totals (cheap) and its per-second curves (on demand).

`totals()` decides a workout's sums from a few random draws: joules, revolutions, distance, seconds
in each heart-rate zone. `curves()` then draws per-second values with the right look (warm-up,
intervals, cool-down, heart rate lagging effort) and fits them to those sums exactly. So pages, the
CSV export and the workout bodies agree with the graphs without ever generating a graph, and a
graph is generated only when asked for (graphs.py), never kept.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from math import gcd

from pelodump.sim.catalog import Kind, Ride, rng_for

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
