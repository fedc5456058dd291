"""The build survives odd shapes, skips and reports what it cannot read, never goes online."""

from __future__ import annotations

import copy
import errno
import fcntl
import io
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard
from helpers import SAMPLES, save_capture

import pelodump
from pelodump import tables, transform
from pelodump.archive import open_archive
from pelodump.cli import build_parser, main
from pelodump.errors import ArchiveError, PelodumpError
from pelodump.units import convert, factor

MI = 1.609344
START = 1_700_000_000  # 2023-11-14T22:13:20Z


def gps_point(offset: int, unit: object) -> dict[str, Any]:
    return {
        "seconds_offset_from_start": offset,
        "latitude": 40.0 + offset,
        "longitude": -73.0,
        "accuracy": 3,
        "distance": 2.0,
        "distance_display_unit": unit,
    }


def detail(workout_id: str, discipline: str = "cycling", start: int = START) -> dict[str, Any]:
    return {
        "id": workout_id,
        "fitness_discipline": discipline,
        "start_time": start,
        "end_time": start + 60,
        "status": "COMPLETE",
        "ride": {"id": f"ride-{workout_id}", "title": f"class {workout_id}"},
    }


def series(slug: object, values: Any, unit: str = "watts", **extra: Any) -> dict[str, Any]:
    return {"slug": slug, "display_unit": unit, "values": values, **extra}


def sample_json(sample: str, name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / sample / name).read_bytes())


def build(root: Path, out: Path, **options: Any) -> tables.BuildReport:
    return tables.build_tables(open_archive(root), out, **options)


def by_workout(frame: pl.DataFrame, workout_id: str) -> pl.DataFrame:
    return frame.filter(pl.col("workout_id") == workout_id)


ODD_GRAPHS: dict[str, dict[str, Any] | None] = {
    # A workout whose start equals its end: empty arrays, null summary values.
    "empty": {
        "duration": 0,
        "seconds_since_pedaling_start": [],
        "metrics": [series("output", [], max_value=None, average_value=None)],
        "summaries": [{"slug": "distance", "value": None, "display_unit": "mi"}],
        "average_summaries": [],
    },
    "no_metrics": {"seconds_since_pedaling_start": [0, 1, 2], "metrics": []},
    "nulls_everywhere": {
        "seconds_since_pedaling_start": None,
        "metrics": None,
        "segment_list": None,
        "location_data": None,
        "effort_zones": None,
    },
    "null_values": {
        "seconds_since_pedaling_start": [0, 1, 2, 3],
        "metrics": [series("output", [10, None, 30, None], average_value=20, max_value=30)],
    },
    "short_and_long": {
        "seconds_since_pedaling_start": [0, 5, 10, 15],
        "metrics": [
            series("output", [1, 2, 3]),  # shorter than the time array
            series("cadence", [11, 12, 13, 14, 15, 16], unit="rpm"),  # longer
        ],
    },
    "unknown_slug_and_unit": {
        "seconds_since_pedaling_start": [0, 1],
        "metrics": [
            series("power_zone", [3, 4], unit="zone"),
            series("speed", [20.0, 21.0], unit="furlongs/h", average_value=20.5),
        ],
    },
    "strange_types": {
        "seconds_since_pedaling_start": [0, None, 2],
        "metrics": [
            "not a metric",
            series("output", "not a list"),
            series("heart_rate", [100, "x", {"a": 1}], unit="bpm", zones="none"),
            {"values": [1, 2, 3]},  # no slug at all
        ],
        "summaries": {"not": "a list"},
        "segment_list": ["not a segment", {"name": 7}],
        "location_data": [{"coordinates": ["x", {"latitude": "north"}]}],
    },
    "whole_and_fractional": {  # ints and floats in one array, a number past Int64, true
        "seconds_since_pedaling_start": [0, 1, 2],
        "metrics": [
            series("speed", [1.5, 2.5, 3.5], unit="kph"),
            series("cadence", [80, 81, 82], unit="rpm"),
            series("output", [1, 2, 3.5]),  # whole numbers, then a fraction
            series("resistance", [40.5, 41, 42], unit="%"),
            series("heart_rate", [120, 2**64 - 1, True], unit="bpm"),
        ],
    },
    "slugs_that_are_no_strings": {
        "seconds_since_pedaling_start": [0, 1],
        "metrics": [
            series(["x"], [1, 2]) | {"alternatives": [{"slug": {"a": 1}, "values": [3, 4]}]},
            series(None, [5, 6]),
            series("cadence", [7, 8], unit="rpm"),
        ],
    },
    "odd_gps": {
        "seconds_since_pedaling_start": [0, 1],
        "metrics": [],
        "location_data": [
            {
                "segment_id": "a",
                "is_gap": False,
                "coordinates": [
                    gps_point(0, "mi"),
                    gps_point(1, ["mi"]),  # a unit that cannot even be hashed
                    gps_point(2, 5),
                    gps_point(3, None),
                ],
            },
            {"segment_id": "b", "is_gap": True, "coordinates": [{"latitude": 40.5}]},
        ],
    },
    "numbers_as_text": {
        "seconds_since_pedaling_start": [0, 1.5, 2.0, "3", 4],
        "metrics": [series("output", ["2", 3, 4.5, 5, [6]])],
    },
    "no_graph": None,
}


@pytest.fixture
def odd_archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id, graph in ODD_GRAPHS.items():
            save_capture(run, "workout", workout_id, detail(workout_id))
            if graph is not None:
                save_capture(run, "performance_graph", workout_id, graph)
        save_capture(
            run, "performance_graph", "graph_only", ODD_GRAPHS["null_values"] | {"duration": 9}
        )
    return root


def test_odd_graphs_never_crash_and_lose_nothing_silently(odd_archive: Path, tmp_path) -> None:
    out = tmp_path / "tables"
    report = build(odd_archive, out)
    assert report.skipped == []
    workouts = pl.read_parquet(out / "workouts.parquet")
    samples = pl.read_parquet(out / "samples.parquet")
    long = pl.read_parquet(out / "metrics_long.parquet")
    rows = {row["workout_id"]: row for row in workouts.to_dicts()}
    assert set(rows) == {*ODD_GRAPHS, "graph_only"}

    assert rows["empty"]["samples_count"] == 0
    assert rows["empty"]["avg_output_w"] is None and rows["empty"]["distance_km"] is None
    assert by_workout(samples, "empty").is_empty()
    assert by_workout(samples, "no_metrics")["offset_s"].to_list() == [0, 1, 2]
    assert rows["nulls_everywhere"]["samples_count"] == 0

    nulls = by_workout(samples, "null_values")
    assert nulls["output_w"].to_list() == [10.0, None, 30.0, None]
    assert rows["null_values"]["avg_output_w"] == 20.0

    # Cut to the shorter of each values array and the time array, and counted.
    cut = by_workout(samples, "short_and_long")
    assert cut["offset_s"].to_list() == [0, 5, 10, 15]
    assert cut["output_w"].to_list() == [1.0, 2.0, 3.0, None]
    assert cut["cadence_rpm"].to_list() == [11.0, 12.0, 13.0, 14.0]
    assert rows["short_and_long"]["metric_length_mismatches"] == 2
    assert by_workout(long, "short_and_long").group_by("slug").len().sort("slug").rows() == [
        ("cadence", 4),
        ("output", 3),
    ]
    assert report.mismatched_workouts >= 1

    # Only numbers are numbers: no text parsed, no fraction of a second truncated into a key.
    text = by_workout(samples, "numbers_as_text")
    assert text["offset_s"].to_list() == [0, None, 2, None, 4]
    assert text["output_w"].to_list() == [None, 3.0, 4.5, 5.0, None]
    assert by_workout(long, "numbers_as_text")["value"].to_list() == [None, 3.0, 4.5, 5.0, None]
    # true and false read as polars reads them, 1 and 0, whatever else the list holds.
    assert transform._numbers("v", [True, 2.0, "x"], pl.Float64()).to_list() == [1.0, 2.0, None]
    assert transform._numbers("o", [0, True, 1.5], pl.Int64()).to_list() == [0, 1, None]

    # Unknown slugs and units stay in metrics_long exactly as sent; never guessed into samples.
    kept = by_workout(long, "unknown_slug_and_unit").sort("slug", "offset_s")
    assert kept.select("offset_s", "slug", "value", "unit").rows() == [
        (0, "power_zone", 3.0, "zone"),
        (1, "power_zone", 4.0, "zone"),
        (0, "speed", 20.0, "furlongs/h"),
        (1, "speed", 21.0, "furlongs/h"),
    ]
    assert by_workout(samples, "unknown_slug_and_unit")["speed_kph"].to_list() == [None, None]
    assert rows["unknown_slug_and_unit"]["avg_speed_kph"] is None
    assert ("speed", "furlongs/h") in report.unknown_units
    # Reading metrics_long alone converts nothing, so no unit is unknown to it.
    alone = tables.BuildReport()
    for batch in tables.iter_batches(
        open_archive(odd_archive), {"metrics_long"}, tables.Selection(), alone
    ):
        batch()
    assert alone.unknown_units == set()

    # A slug that is not a string (even one that cannot be hashed) names no column; its values
    # are kept in metrics_long, with no slug.
    unnamed = by_workout(long, "slugs_that_are_no_strings")
    assert unnamed.select("slug", "value").rows() == [
        (None, 1.0), (None, 2.0), (None, 5.0), (None, 6.0),
        ("cadence", 7.0), ("cadence", 8.0), (None, 3.0), (None, 4.0),
    ]  # fmt: skip
    assert by_workout(samples, "slugs_that_are_no_strings")["cadence_rpm"].to_list() == [7.0, 8.0]

    mixed = by_workout(samples, "whole_and_fractional")
    assert mixed.select("speed_kph", "cadence_rpm", "output_w", "resistance_pct").rows() == [
        (1.5, 80.0, 1.0, 40.5),
        (2.5, 81.0, 2.0, 41.0),
        (3.5, 82.0, 3.5, 42.0),
    ]
    assert mixed["heart_rate_bpm"].to_list() == [120.0, float(2**64 - 1), 1.0]
    assert by_workout(long, "whole_and_fractional")["slug"].to_list() == [
        slug for slug in ("speed", "cadence", "output", "resistance", "heart_rate") for _ in "abc"
    ]

    strange = by_workout(samples, "strange_types")
    assert strange["offset_s"].to_list() == [0, None, 2]
    assert strange["heart_rate_bpm"].to_list() == [100.0, None, None]
    assert rows["strange_types"]["location_points"] == 1  # "x" is not a point
    gps = pl.read_parquet(out / "locations.parquet")
    assert by_workout(gps, "strange_types").select("latitude", "is_gap").rows() == [(None, None)]
    # Each point's distance in its own unit; one that is no unit (or not a string) is null.
    odd = by_workout(gps, "odd_gps").select(
        "offset_s", "latitude", "accuracy_m", "distance_km", "is_gap", "segment_id"
    )
    assert odd.rows() == [
        (0, 40.0, 3.0, pytest.approx(2 * MI), False, "a"),
        (1, 41.0, 3.0, None, False, "a"),
        (2, 42.0, 3.0, None, False, "a"),
        (3, 43.0, 3.0, None, False, "a"),
        (None, 40.5, None, None, True, "b"),
    ]
    assert rows["odd_gps"]["location_points"] == 5

    assert rows["no_graph"]["has_graph"] is False
    assert rows["no_graph"]["samples_count"] is None
    assert rows["no_graph"]["title"] == "class no_graph"
    assert rows["graph_only"]["fitness_discipline"] is None
    assert rows["graph_only"]["duration_s"] == 9.0


def test_metrics_are_found_by_slug_not_position(tmp_path: Path) -> None:
    workout = sample_json("cycling_class_hr", "workout.json")
    graph = sample_json("cycling_class_hr", "performance_graph.json")
    shuffled = copy.deepcopy(graph)
    shuffled["metrics"].reverse()  # heart_rate first, output last
    shuffled["summaries"].reverse()
    shuffled["average_summaries"].reverse()
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id, body in (("as_sent", graph), ("shuffled", shuffled)):
            save_capture(run, "workout", workout_id, workout | {"id": workout_id})
            save_capture(run, "performance_graph", workout_id, body)
    workouts = pelodump.read_workouts(root).drop("workout_id")
    assert workouts.row(0) == workouts.row(1)
    assert workouts["avg_heart_rate_bpm"].to_list() == [138.0, 138.0]
    samples = pelodump.read_samples(root)
    assert (
        by_workout(samples, "as_sent")
        .drop("workout_id")
        .equals(by_workout(samples, "shuffled").drop("workout_id"))
    )


@pytest.fixture
def samples_archive(tmp_path: Path) -> Path:
    root = tmp_path / "samples_archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for folder in sorted(SAMPLES.iterdir()):
            if (folder / "workout.json").exists():
                workout = sample_json(folder.name, "workout.json")
                save_capture(run, "workout", workout["id"], (folder / "workout.json").read_bytes())
                body = (folder / "performance_graph.json").read_bytes()
                save_capture(run, "performance_graph", workout["id"], body)
    return root


def test_small_batches_build_the_same_tables(
    samples_archive, odd_archive, tmp_path, monkeypatch
) -> None:
    """A batch per workout builds the tables of one batch: real samples, GPS, odd types."""
    with open_archive(samples_archive).begin_run({"command": "test"}) as run:  # a second walk
        walk = sample_json("outdoor_walk_gps", "performance_graph.json")
        for segment in walk["location_data"]:
            for point in segment["coordinates"]:
                point["latitude"] += 1
        save_capture(run, "workout", "walk-2", sample_json("outdoor_walk_gps", "workout.json"))
        save_capture(run, "performance_graph", "walk-2", walk)
    for archive in (samples_archive, odd_archive):
        build(archive, tmp_path / "one_batch")
        with monkeypatch.context() as patch:
            patch.setattr(tables, "BATCH_VALUES", 1)  # a batch per workout
            build(archive, tmp_path / "many_batches")
        for name in tables.TABLES:
            one = pl.read_parquet(tmp_path / "one_batch" / f"{name}.parquet")
            many = pl.read_parquet(tmp_path / "many_batches" / f"{name}.parquet")
            assert one.equals(many), (archive.name, name)
            assert name in ("rides", "segments") or one.height > 0, (archive.name, name)


def test_csv_and_ndjson_hold_the_same_rows_and_no_temp_files_remain(
    samples_archive, tmp_path
) -> None:
    parquet = build(samples_archive, tmp_path / "p")
    for fmt in ("csv", "ndjson"):
        out = tmp_path / fmt
        report = build(samples_archive, out, fmt=fmt)
        assert report.rows == parquet.rows
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.{fmt}" for t in tables.TABLES)
    csv = pl.read_csv(tmp_path / "csv" / "workouts.csv")
    ndjson = pl.read_ndjson(tmp_path / "ndjson" / "workouts.ndjson")
    expected = pl.read_parquet(tmp_path / "p" / "workouts.parquet")
    assert csv["distance_km"].to_list() == pytest.approx(expected["distance_km"].to_list())
    assert ndjson["workout_id"].to_list() == expected["workout_id"].to_list()
    assert csv.height == ndjson.height == parquet.rows["workouts"] == 9


def test_unreadable_blobs_are_skipped_and_reported(tmp_path, capsys) -> None:
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id in ("good", "bad_json", "missing_blob", "not_zstd"):
            save_capture(run, "workout", workout_id, detail(workout_id))
            graph = {"seconds_since_pedaling_start": [0, 1], "tag": workout_id}
            graph["metrics"] = [series("output", [1, 2])]
            captured = save_capture(run, "performance_graph", workout_id, graph)
            blob = open_archive(root).blob_path(captured.blob)
            if workout_id == "bad_json":
                blob.write_bytes(zstandard.ZstdCompressor().compress(b'{"metrics": [1, 2'))
            elif workout_id == "missing_blob":
                blob.unlink()
            elif workout_id == "not_zstd":
                blob.write_bytes(b"garbage")
    out = tmp_path / "tables"
    assert main(["build", "--archive", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "skipped 3 unreadable captures" in err
    # Content other than what was stored is damage, whatever it holds: the hash tells.
    assert "performance_graph bad_json: blob sha256:" in err
    assert "(damaged on disk: content does not match its hash)" in err
    assert "performance_graph missing_blob: blob sha256:" in err and "is missing" in err
    assert "performance_graph not_zstd: blob sha256:" in err
    workouts = pl.read_parquet(out / "workouts.parquet")
    assert sorted(workouts["workout_id"]) == ["bad_json", "good", "missing_blob", "not_zstd"]
    assert workouts.filter(pl.col("has_graph"))["workout_id"].to_list() == ["good"]
    assert pl.read_parquet(out / "samples.parquet")["workout_id"].to_list() == ["good", "good"]


def test_selection_by_discipline_and_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "archive"
    day = 86_400
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id, discipline, start in (
            ("old_ride", "cycling", START - 10 * day),
            ("new_ride", "cycling", START),
            ("new_row", "caesar", START + day),
            ("new_run", "running", START + day),
        ):
            save_capture(run, "workout", workout_id, detail(workout_id, discipline, start))
            graph = {"seconds_since_pedaling_start": [0], "metrics": [series("output", [5])]}
            save_capture(run, "performance_graph", workout_id, graph)
        save_capture(run, "performance_graph", "no_detail", {"seconds_since_pedaling_start": [0]})

    def ids(**selection: Any) -> list[str]:
        return pelodump.read_workouts(root, **selection)["workout_id"].to_list()

    assert ids() == ["old_ride", "new_ride", "new_row", "new_run", "no_detail"]
    assert ids(discipline="cycling") == ["old_ride", "new_ride"]
    assert ids(discipline=["Rowing", "running"]) == ["new_row", "new_run"]
    assert ids(since="2023-11-14") == ["new_ride", "new_row", "new_run"]
    assert ids(since="2023-11-14T22:13:21Z") == ["new_row", "new_run"]
    assert ids(discipline="cycling", since="2023-11-10") == ["new_ride"]
    assert ids(discipline="cycling", since="2023-11-01") == ["old_ride", "new_ride"]
    samples = pelodump.read_samples(root, discipline="caesar")
    assert samples["workout_id"].to_list() == ["new_row"]

    out = tmp_path / "tables"
    args = ["build", "--archive", str(root), "--out", str(out), "--discipline", "cycling"]
    assert main([*args, "--since", "2023-11-10"]) == 0
    assert pl.read_parquet(out / "workouts.parquet")["workout_id"].to_list() == ["new_ride"]

    # A discipline no workout has (a typo, say) builds empty tables, and says why.
    capsys.readouterr()
    assert main([*args[:-1], "cyclnig"]) == 0
    assert capsys.readouterr().err == (
        "note: no workout matched --discipline/--since; "
        "the archive's disciplines: caesar, cycling, running\n"
    )
    assert pl.read_parquet(out / "workouts.parquet").is_empty()
    for not_a_name in (5, [None], ["cycling", 1]):
        with pytest.raises(PelodumpError, match="is not a name or a list of names"):
            pelodump.read_workouts(root, discipline=not_a_name)  # type: ignore[arg-type]
    assert ids(discipline=(d for d in ["running"])) == ["new_run"]


def test_usage_errors_are_one_line_and_exit_2(tmp_path, capsys) -> None:
    assert main(["build", "--archive", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert "no archive at" in capsys.readouterr().err
    open_archive(tmp_path / "archive", create=True)
    assert main(["build", "--archive", str(tmp_path / "archive"), "--since", "last week"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--since: 'last week' is not a date" in err
    with pytest.raises(ArchiveError):
        pelodump.scan_samples(tmp_path / "none")
    with pytest.raises(PelodumpError, match="no such table format: 'xlsx'"):
        tables.build_tables(open_archive(tmp_path / "archive"), tmp_path / "out", "xlsx")


@pytest.mark.parametrize("fmt", tables.FORMATS)
def test_tables_that_cannot_be_written_are_one_line_and_exit_2(
    samples_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    args = ["build", "--archive", str(samples_archive), "--format", fmt, "--out"]
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    assert main([*args, str(a_file)]) == 2
    err = capsys.readouterr().err
    assert err == f"pelodump: error: cannot write tables to {a_file}: not a directory\n"

    # A full disk: the file each table is first written to is /dev/full, where writes fail
    # with ENOSPC as on a full disk (polars reports it as one of its own errors).
    full = tmp_path / "full"
    full.mkdir()
    (full / f".samples.{fmt}.tmp").symlink_to("/dev/full")
    assert main([*args, str(full)]) == 2
    err = capsys.readouterr().err
    assert err == f"pelodump: error: cannot write tables to {full}: No space left on device\n"
    assert sorted(p.name for p in full.iterdir()) == []  # nothing half-written is left


def test_progress_is_told_how_many_workouts_were_read(odd_archive: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    report = tables.build_tables(
        open_archive(odd_archive), tmp_path / "t", progress=lambda *call: calls.append(call)
    )
    total = report.rows["workouts"]
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_on_a_terminal_only_and_is_cleared_at_the_end() -> None:
    terminal = _Terminal()
    with tables.progress_line(terminal) as show:
        assert show is not None
        show(0, 2500)
        show(2500, 2500)
    assert "building: 0 of 2,500 workouts read" in terminal.getvalue()
    assert "building: 2,500 of 2,500 workouts read" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\033[K")  # the line is gone when the build ends

    log = io.StringIO()  # a file or a pipe: nothing drawn there
    with tables.progress_line(log) as show:
        assert show is None
    assert log.getvalue() == ""


def test_the_command_line_offers_every_table_format_and_only_those() -> None:
    (build_command,) = (
        action.choices["build"]
        for action in build_parser()._actions
        if isinstance(action.choices, dict) and "build" in action.choices
    )
    (fmt,) = (a for a in build_command._actions if a.dest == "format")
    assert tuple(fmt.choices) == tables.FORMATS


def test_rides_from_class_details(tmp_path: Path) -> None:
    workout = sample_json("cycling_class_hr", "workout.json")
    scenic = sample_json("cycling_scenic_fixed_distance", "workout.json")
    ride = {k: v for k, v in workout["ride"].items() if k != "instructor"}
    details = {
        "ride": ride,
        "class_types": [{"id": "665395ff", "name": "Power Zone"}, {"name": "Endurance"}],
        "playlist": {"songs": [{"title": "a"}, {"title": "b"}, {"title": "c"}]},
        "segments": {"segment_list": [{}, {}, {}]},
        "averages": {},
    }
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        save_capture(run, "workout", workout["id"], workout)
        save_capture(run, "ride_details", ride["id"], details)
        save_capture(run, "ride_details", scenic["ride"]["id"], {"ride": scenic["ride"]})
        save_capture(run, "ride_details", "no_ride", {"unexpected": True})
    rides = {row["ride_id"]: row for row in pelodump.read_rides(root).to_dicts()}
    assert len(rides) == 3
    power_zone = rides["6e513fd6ad1c4d12b829624fa22b38a0"]
    assert power_zone["title"] == "30 min Power Zone Endurance Ride"
    assert power_zone["instructor"] == "Christine D'Ercole"  # from the workout that joined it
    assert power_zone["duration_s"] == 1800 and power_zone["length_s"] == 1994
    assert power_zone["class_types"] == "Power Zone, Endurance"
    assert (power_zone["song_count"], power_zone["segment_count"]) == (3, 3)
    assert power_zone["original_air_time"].isoformat() == "2021-03-09T18:00:00+00:00"
    assert power_zone["distance_km"] is None
    assert rides["caa5a6e4eb954a6fb54e77a60b7a0851"]["distance_km"] == 5.0  # "5 KM" class
    assert rides["no_ride"]["title"] is None
    assert pelodump.read_rides(root, discipline="cycling")["ride_id"].to_list() == [ride["id"]]
    assert pelodump.read_rides(root, discipline="running").is_empty()


def test_lazy_scans_filter_project_and_limit(samples_archive: Path) -> None:
    eager = pelodump.read_samples(samples_archive)
    lazy = (
        pelodump.scan_samples(samples_archive)
        .filter(pl.col("heart_rate_bpm") > 150)
        .select("workout_id", "offset_s", "heart_rate_bpm")
        .collect()
    )
    expected = eager.filter(pl.col("heart_rate_bpm") > 150).select(lazy.columns)
    assert lazy.height > 0 and lazy.equals(expected)
    assert pelodump.scan_workouts(samples_archive).head(2).collect().height == 2
    for table in ("segments", "locations", "rides"):
        scanned = getattr(pelodump, f"scan_{table}")(samples_archive).collect()
        assert scanned.equals(getattr(pelodump, f"read_{table}")(samples_archive)), table
    assert pelodump.scan_locations(samples_archive).collect().height > 0


def test_build_runs_with_the_network_blocked(samples_archive, tmp_path, monkeypatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the build tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    out = tmp_path / "tables"
    assert main(["build", "--archive", str(samples_archive), "--out", str(out)]) == 0
    assert pl.read_parquet(out / "workouts.parquet").height == 9


def test_tables_never_import_the_http_stack() -> None:
    code = (
        "import sys, pelodump.tables, pelodump.transform;"
        "bad = {'aiohttp', 'pelodump.api', 'pelodump.crawl'} & set(sys.modules);"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_units() -> None:
    assert convert(7.97, "mi", "km") == pytest.approx(12.82647168)
    assert convert(15.9, "mph", "kph") == pytest.approx(15.9 * MI)
    assert convert(264, "ft", "m") == pytest.approx(80.4672)
    assert convert(18.02, "min/mi", "min/km") == pytest.approx(11.197109, rel=1e-6)
    assert convert(1023.28, "m", "km") == pytest.approx(1.02328)
    assert convert(5.0, "km", "km") == 5.0 and convert(98, "Watts", "w") == 98
    assert convert(133, None, None) == 133 and convert(3, "strokes", None) is None
    assert convert(None, "mi", "km") is None and convert(True, "mi", "km") is None
    assert factor("furlongs", "km") is None and factor(None, "km") is None


def test_a_ride_whose_instructor_is_not_an_object_does_not_stop_the_build(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    workout = sample_json("cycling_class_hr", "workout.json")
    workout["ride"]["instructor"] = "Somebody"  # the wrong shape, as an API change might send
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        save_capture(run, "workout", workout["id"], workout)
        graph = sample_json("cycling_class_hr", "performance_graph.json")
        save_capture(run, "performance_graph", workout["id"], graph)
    report = build(root, tmp_path / "tables")
    assert report.skipped == [] and report.rows["workouts"] == 1


def test_a_notebook_warning_points_at_the_callers_line(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        save_capture(run, "workout", "a" * 32, detail("a" * 32))
        save_capture(run, "performance_graph", "a" * 32, b"[]")  # JSON, but not a graph
    with pytest.warns(UserWarning, match="skipped 1 unreadable") as caught:
        pelodump.read_workouts(root)
    assert caught[0].filename == __file__


def test_an_unreadable_detail_is_stood_in_for_by_its_list_item(tmp_path: Path, capsys) -> None:
    """A damaged detail blob is reported, and the workouts row still holds what the workouts
    page says of the workout, as it does when the detail was never fetched."""
    root = tmp_path / "archive"
    listed = [
        detail(w, start=START + i) | {"created_at": START + i}
        for i, w in enumerate(("damaged", "never_fetched", "fine"))
    ]
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        save_capture(run, "workouts_page", "0", {"data": listed, "page": 0})
        damaged = save_capture(run, "workout", "damaged", detail("damaged", "running"))
        save_capture(run, "workout", "fine", detail("fine", "rowing", START + 2))
    blob = open_archive(root).blob_path(damaged.blob)
    blob.write_bytes(zstandard.ZstdCompressor().compress(b'{"id": "damaged"}'))
    out = tmp_path / "tables"
    assert main(["build", "--archive", str(root), "--out", str(out)]) == 1
    assert "workout damaged: blob sha256:" in capsys.readouterr().err
    workouts = pl.read_parquet(out / "workouts.parquet")
    assert workouts["workout_id"].to_list() == ["damaged", "never_fetched", "fine"]
    # The page's own fields, not the damaged blob's: cycling and the listed title.
    assert workouts["fitness_discipline"].to_list() == ["cycling", "cycling", "rowing"]
    assert workouts["title"].to_list() == ["class damaged", "class never_fetched", "class fine"]
    assert workouts["start_time"].null_count() == 0


def test_since_reads_start_times_as_the_table_does(tmp_path: Path) -> None:
    """A start time sent as an ISO string is a start time for --since too."""
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        save_capture(run, "workout", "iso", detail("iso") | {"start_time": "2024-03-01T10:00:00Z"})
        save_capture(run, "workout", "old", detail("old"))
    workouts = pelodump.read_workouts(root, since="2024-01-01")
    assert workouts["workout_id"].to_list() == ["iso"]
    assert str(workouts["start_time"][0]) == "2024-03-01 10:00:00+00:00"


def test_samples_alone_build_without_workouts_rows(samples_archive: Path, monkeypatch) -> None:
    """Reading samples never builds workouts rows (the notebook asked for samples only)."""

    def no_rows(*_: object) -> None:
        raise AssertionError("a workouts row was built")

    monkeypatch.setattr(tables, "workout_row", no_rows)
    samples = pelodump.read_samples(samples_archive)
    assert samples.height > 0


def test_whole_numbers_too_big_for_int64_or_fractional_are_null(tmp_path: Path) -> None:
    odd = {"big": 2**63, "float_big": 1e20, "fraction": 3.5, "whole_float": 7.0, "fits": 2**63 - 1}
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id, rank in odd.items():
            save_capture(
                run,
                "workout",
                workout_id,
                detail(workout_id) | {"leaderboard_rank": rank, "total_leaderboard_users": rank},
            )
    report = build(root, tmp_path / "tables")
    assert report.skipped == []
    workouts = pl.read_parquet(tmp_path / "tables" / "workouts.parquet")
    ranks = dict(workouts.select(pl.col("workout_id").cast(pl.String), "leaderboard_rank").rows())
    assert ranks == {
        "big": None,
        "float_big": None,
        "fraction": None,
        "whole_float": 7,
        "fits": 2**63 - 1,
    }
    assert workouts["leaderboard_users"].to_list() == workouts["leaderboard_rank"].to_list()


def test_a_damaged_run_log_line_is_reported_and_the_rest_built(tmp_path, capsys) -> None:
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id in ("kept", "lost"):
            save_capture(run, "workout", workout_id, detail(workout_id))
            graph = {"seconds_since_pedaling_start": [0, 1], "metrics": [series("output", [1, 2])]}
            save_capture(run, "performance_graph", workout_id, graph)
    (log,) = (root / "runs").glob("*.jsonl")
    lines = log.read_bytes().splitlines(keepends=True)
    (damaged,) = [i for i, line in enumerate(lines) if b'"/api/performance_graph/lost"' in line]
    lines[damaged] = lines[damaged][:40] + b"\n"
    log.write_bytes(b"".join(lines))

    out = tmp_path / "tables"
    assert main(["build", "--archive", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "skipped 1 unreadable captures" in err
    assert f"run log runs/{log.name} line {damaged + 1}: unreadable record (not JSON)" in err
    workouts = pl.read_parquet(out / "workouts.parquet")
    assert workouts.filter(pl.col("has_graph"))["workout_id"].to_list() == ["kept"]
    with pytest.warns(UserWarning, match="unreadable record"):
        tables.read_workouts(root)


def test_a_second_build_into_the_same_tables_is_refused_and_touches_nothing(
    samples_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tables"
    args = ["build", "--archive", str(samples_archive), "--out", str(out)]
    assert main(args) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / ".samples.parquet.tmp").write_bytes(b"the other build's half-written table")
    capsys.readouterr()
    # Another build holds the tables, as the one that began first does until it ends.
    other = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(args) == 2
    finally:
        os.close(other)
    err = capsys.readouterr().err
    assert err == (
        f"pelodump: error: another pelodump build is writing tables to {out}; "
        "try again when it has finished\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before | {
        ".samples.parquet.tmp": b"the other build's half-written table"
    }
    assert main(args) == 0  # once it has ended
    assert sorted(p.name for p in out.iterdir()) == sorted(before)


def test_ctrl_c_while_the_tables_are_renamed_leaves_them_all_new(
    samples_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "tables"
    build(samples_archive, out, selection=tables.Selection.parse("running"))
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    renamed = []
    real_replace = os.replace

    def replace_then_interrupt(source: Path, target: Path) -> None:
        real_replace(source, target)
        renamed.append(target)
        if len(renamed) == 3:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(tables.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        build(samples_archive, out)
    assert len(renamed) == len(tables.TABLES)
    assert sorted(p.name for p in out.iterdir()) == sorted(old)  # no temporary file left
    assert (
        pl.read_parquet(out / "workouts.parquet").height
        > pl.read_parquet(io.BytesIO(old["workouts.parquet"])).height
    )


def test_a_run_log_that_cannot_be_opened_is_reported_and_a_limited_scan_still_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id in ("a", "b"):
            save_capture(run, "workout", workout_id, detail(workout_id))
    (root / "runs" / "20990101T000000.000000Z-000000.jsonl").mkdir()
    out = tmp_path / "tables"
    assert main(["build", "--archive", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert (
        "run log runs/20990101T000000.000000Z-000000.jsonl: cannot be read (Is a directory)" in err
    )
    assert pl.read_parquet(out / "workouts.parquet").height == 2
    # A query that stops after its first rows still says what was skipped.
    with pytest.warns(UserWarning, match="skipped 1 unreadable captures: run log"):
        assert tables.scan_workouts(root).head(1).collect().height == 1


def test_a_run_log_cut_short_at_its_end_is_a_note_not_a_failure(tmp_path, capsys) -> None:
    root = tmp_path / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id in ("a", "b"):
            save_capture(run, "workout", workout_id, detail(workout_id))
    (log,) = (root / "runs").glob("*.jsonl")
    log.write_bytes(log.read_bytes()[:-30])  # a power cut while the last record was written
    assert main(["build", "--archive", str(root), "--out", str(tmp_path / "tables")]) == 0
    err = capsys.readouterr().err
    assert err == (
        "note: 1 run logs end in a record cut short (a run stopped while writing it; the next "
        f"fetch fetches again what it held): {log.name}\n"
    )


def test_a_file_system_that_cannot_lock_a_directory_still_builds(
    samples_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flock(fd: int, operation: int) -> None:  # as on NFS: a directory is not open for writing
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(tables.fcntl, "flock", flock)
    opened = len(os.listdir("/proc/self/fd"))
    report = build(samples_archive, tmp_path / "tables")
    assert report.rows["workouts"] > 0 and report.skipped == []
    assert len(os.listdir("/proc/self/fd")) == opened  # the directory is not left open


def test_sigterm_and_ctrl_c_held_back_together_both_take_effect() -> None:
    terminated = []
    previous = signal.signal(signal.SIGTERM, lambda number, _: terminated.append(number))
    try:
        with pytest.raises(KeyboardInterrupt), tables._interrupts_held_back():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)
            assert terminated == []  # held back
        assert terminated == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_instructor_named_by_id_only_is_named_from_the_workouts_that_name_them(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    instructor = "c" * 32
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id, discipline, ride in (
            (
                "named",
                "running",
                {"instructor_id": instructor, "instructor": {"name": "Jonah Vale"}},
            ),
            ("id_only", "cycling", {"instructor_id": instructor}),
            ("nobody", "cycling", {"instructor_id": "d" * 32}),
        ):
            body = detail(workout_id, discipline)
            save_capture(run, "workout", workout_id, body | {"ride": body["ride"] | ride})
    workouts = pelodump.read_workouts(root).select(
        pl.col("workout_id").cast(pl.String), "instructor", "instructor_id"
    )
    assert sorted(workouts.rows()) == [
        ("id_only", "Jonah Vale", instructor),
        ("named", "Jonah Vale", instructor),
        ("nobody", None, "d" * 32),
    ]
    # The name does not hang on which workouts are selected.
    cycling = pelodump.read_workouts(root, discipline="cycling")
    assert cycling.filter(pl.col("workout_id") == "id_only")["instructor"].to_list() == [
        "Jonah Vale"
    ]


def test_local_start_time_is_on_each_workouts_own_clock_and_null_for_unknown_zones(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    zones = {"ny": "America/New_York", "kyiv": "Europe/Kyiv", "bad": "Not/AZone", "empty": ""}
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for workout_id, zone in zones.items():
            save_capture(run, "workout", workout_id, detail(workout_id) | {"timezone": zone})
        save_capture(run, "workout", "none", detail("none"))
    local = dict(
        pelodump.read_workouts(root)
        .select(pl.col("workout_id").cast(pl.String), "local_start_time")
        .rows()
    )
    # START is 2023-11-14 22:13:20 UTC.
    assert local == {
        "ny": datetime(2023, 11, 14, 17, 13, 20),
        "kyiv": datetime(2023, 11, 15, 0, 13, 20),
        "bad": None,
        "empty": None,
        "none": None,
    }
