"""Not built yet: see the open issues."""

from typing import Any

from pelodump.errors import PelodumpError


def run_demo_command(*args: Any, **kwargs: Any) -> int:
    raise PelodumpError("'pelodump demo' is not built yet")
