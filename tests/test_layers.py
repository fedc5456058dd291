"""The layers stay apart: HTTP -> crawl -> archive => tables, and nothing reaches back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pelodump


def modules_loaded_by(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("pelodump.archive", {"aiohttp", "polars", "pelodump.api", "pelodump.crawl"}),
        ("pelodump.crawl", {"polars", "pelodump.tables", "pelodump.transform"}),
        ("pelodump.tables", {"aiohttp", "pelodump.api", "pelodump.auth", "pelodump.crawl"}),
        ("pelodump.verify", {"aiohttp", "polars"}),
        ("pelodump.status", {"aiohttp", "polars"}),  # status reads labels, never tables
        ("pelodump.cli", {"aiohttp", "polars"}),  # `pelodump --help` stays quick
    ],
)
def test_module_does_not_import_another_layer(module: str, forbidden: set[str]) -> None:
    assert not modules_loaded_by(module) & forbidden


def test_the_archive_knows_nothing_of_peloton() -> None:
    source = (Path(pelodump.__file__).parent / "archive.py").read_text().lower()
    for word in ("workout", "ride_", "performance_graph", "onepeloton", "user_id"):
        assert word not in source, word
