"""Not built yet: see the open issues."""

from typing import Any

from pelodump.errors import PelodumpError


def run_status_command(*args: Any, **kwargs: Any) -> int:
    raise PelodumpError("'pelodump status' is not built yet")
