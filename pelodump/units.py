"""Converting Peloton's display units to the metric units the tables use.

Peloton sends each figure in the member's chosen units and says which in `display_unit`
(`mi, mph, ft, min/mi` or `km, kph, m, min/km`). Every table column names one target unit
(`distance_km`, `speed_kph`, ...); `factor(unit, target)` is the number to multiply by, or None
when the unit is not one we know how to turn into the target: such a figure is left out of the
typed columns (null) rather than guessed, and stays as sent in metrics_long.
"""

from __future__ import annotations

from datetime import UTC, datetime

KM_PER_MILE = 1.609344
M_PER_FOOT = 0.3048

# Spellings seen (or plausible) in display_unit, folded to one name per unit.
_ALIASES = {
    "watts": "w",
    "watt": "w",
    "kilojoules": "kj",
    "cal": "kcal",
    "calories": "kcal",
    "km/h": "kph",
    "kmh": "kph",
    "mi/h": "mph",
    "miles": "mi",
    "kilometers": "km",
    "meters": "m",
    "metres": "m",
    "feet": "ft",
    "min/mile": "min/mi",
    "/500m": "min/500m",
    "sec": "s",
    "seconds": "s",
    "minutes": "min",
}

# (unit as sent, target unit) -> multiplier. A unit already in the target converts by 1.
_FACTORS: dict[tuple[str, str], float] = {
    ("mi", "km"): KM_PER_MILE,
    ("m", "km"): 0.001,
    ("ft", "m"): M_PER_FOOT,
    ("mi", "m"): KM_PER_MILE * 1000,
    ("km", "m"): 1000.0,
    ("mph", "kph"): KM_PER_MILE,
    # A pace is time per distance: a mile is longer, so minutes per km are fewer.
    ("min/mi", "min/km"): 1 / KM_PER_MILE,
    ("min", "s"): 60.0,
    ("j", "kj"): 0.001,
}


def normalize(unit: object) -> str | None:
    """A unit's canonical spelling (lower case, aliases folded), or None when there is none."""
    if not isinstance(unit, str) or not unit.strip():
        return None
    folded = unit.strip().lower()
    return _ALIASES.get(folded, folded)


def factor(unit: object, target: str | None) -> float | None:
    """What to multiply a figure sent in `unit` by to express it in `target`; None if unknown.

    A target of None is a plain count (stroke_count): it takes a figure sent without a unit.
    """
    sent = normalize(unit)
    if target is None:
        return 1.0 if sent is None else None
    if sent == target:
        return 1.0
    if sent is None:
        return None
    return _FACTORS.get((sent, target))


def convert(value: object, unit: object, target: str | None) -> float | None:
    """A number sent in `unit`, expressed in `target`; None for a missing or unconvertible one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    multiplier = factor(unit, target)
    return None if multiplier is None else value * multiplier


def utc_time(value: object) -> datetime | None:
    """Peloton's times are Unix seconds; an ISO string is accepted too. None for anything that
    is not a time (a bad or out-of-range value is never an error)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None
