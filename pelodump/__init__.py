"""pelodump: back up a Peloton member's workout history as raw JSON, and build tables from it.

The notebook API (`read_workouts`, `read_samples`, ...) lives in `pelodump.tables`; it is imported
lazily so that fetching, which never needs polars, does not pay for importing it.
"""

from typing import Any

__version__ = "0.1.0"

_TABLE_READERS = {
    "read_workouts",
    "read_samples",
    "read_segments",
    "read_metrics_long",
    "read_locations",
    "read_rides",
    "scan_workouts",
    "scan_samples",
    "scan_segments",
    "scan_metrics_long",
    "scan_locations",
    "scan_rides",
}


def __getattr__(name: str) -> Any:
    if name in _TABLE_READERS:
        from pelodump import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'pelodump' has no attribute {name!r}")
