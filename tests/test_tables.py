"""Every real sample builds into the figures a person reads off its JSON, in metric units.

The samples are written into a real archive through the archive's writer, the tables are built
from it, and each expected value below was read off the sample's JSON by hand (the conversion
factors written out: 1 mi = 1.609344 km, 1 ft = 0.3048 m).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import SAMPLES, save_capture

import pelodump
from pelodump.archive import open_archive

MI = 1.609344  # km per mile
FT = 0.3048  # m per foot

IDS = {
    "cycling_class_hr": "3bade6602259414a82576302f9339175",
    "cycling_class_hr_2": "19bc665d58024a97a668e930c0a12d15",
    "cycling_freestyle_no_hr": "e105c80dde614c1483e4f151f8236724",
    "cycling_scenic_fixed_distance": "32cb1c294ccd4a5b8416c828b285f0f3",
    "running_no_device_metrics": "e5647d3343c34442be1b44d7b4b62a93",
    "tread_walk": "98c617d5c56f4f1ab6fc250afc9aea5f",
    "outdoor_walk_gps": "20739ea34d1741dba9b5f89a6967e85d",
    "rowing": "3a5af153444941c0aa54c52aee4726fa",
    "meditation": "aaa6527fd5a74b7e8e2f8975c6025e60",
}


def graph_of(sample: str) -> dict[str, Any]:
    return json.loads((SAMPLES / sample / "performance_graph.json").read_bytes())


def metric(sample: str, slug: str) -> dict[str, Any]:
    """A metric of a sample's graph, found by slug (or among the alternatives)."""
    for m in graph_of(sample)["metrics"]:
        if m["slug"] == slug:
            return m
        for alternative in m.get("alternatives") or []:
            if alternative["slug"] == slug:
                return alternative
    raise KeyError(slug)


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("samples") / "archive"
    with open_archive(root, create=True).begin_run({"command": "test"}) as run:
        for sample, workout_id in IDS.items():
            save_capture(
                run, "workout", workout_id, (SAMPLES / sample / "workout.json").read_bytes()
            )
            body = (SAMPLES / sample / "performance_graph.json").read_bytes()
            save_capture(run, "performance_graph", workout_id, body)
        page = (SAMPLES / "workouts_page" / "page0_limit5.json").read_bytes()
        save_capture(run, "workouts_page", "0", page)
    return root


@pytest.fixture(scope="module")
def workouts(archive_dir: Path) -> dict[str, dict[str, Any]]:
    frame = pelodump.read_workouts(archive_dir)
    assert frame.height == len(IDS)  # the page's rowing item is the same workout, not a new one
    return {row["workout_id"]: row for row in frame.to_dicts()}


@pytest.fixture(scope="module")
def samples(archive_dir: Path) -> pl.DataFrame:
    return pelodump.read_samples(archive_dir)


def row_of(workouts: dict[str, dict[str, Any]], sample: str) -> dict[str, Any]:
    return workouts[IDS[sample]]


def samples_of(samples: pl.DataFrame, sample: str) -> pl.DataFrame:
    return samples.filter(pl.col("workout_id") == IDS[sample])


def expect(row: dict[str, Any], **expected: Any) -> None:
    for column, value in expected.items():
        if isinstance(value, float):
            assert row[column] == pytest.approx(value), column
        else:
            assert row[column] == value, column


def test_cycling_class_with_heart_rate(workouts, samples) -> None:
    row = row_of(workouts, "cycling_class_hr")
    expect(
        row,
        user_id="9d50dddf7e594c57bda54280eeec98d7",
        peloton_id="94d4e3334ced42df9d1c72b49fa442ac",
        ride_id="6e513fd6ad1c4d12b829624fa22b38a0",
        title="30 min Power Zone Endurance Ride",
        instructor="Christine D'Ercole",
        fitness_discipline="cycling",
        workout_type="class",
        device_type="home_bike_v1",
        platform="home_bike",
        status="COMPLETE",
        start_time=datetime(2021, 4, 29, 17, 46, 42, tzinfo=UTC),  # 1619718402
        end_time=datetime(2021, 4, 29, 18, 16, 40, tzinfo=UTC),  # 1619720200
        timezone="Etc/GMT+5",
        local_start_time=datetime(2021, 4, 29, 12, 46, 42),  # Etc/GMT+5 is UTC-5
        duration_s=1800.0,
        ride_length_s=1800.0,
        total_output_kj=176.0,
        total_work_kj=175.77276,
        avg_output_w=98.0,
        max_output_w=140.0,
        avg_cadence_rpm=85.0,
        max_cadence_rpm=120.0,
        avg_resistance_pct=37.0,
        max_resistance_pct=42.0,
        avg_speed_kph=15.9 * MI,
        max_speed_kph=18.6 * MI,
        distance_km=7.97 * MI,
        calories_kcal=236.0,
        avg_heart_rate_bpm=138.0,
        max_heart_rate_bpm=154.0,
        hr_zone1_s=247.0,
        hr_zone2_s=441.0,
        hr_zone3_s=1111.0,
        hr_zone4_s=0.0,
        hr_zone5_s=0.0,
        effort_points=None,
        is_personal_record=False,
        leaderboard_rank=33331,
        leaderboard_users=57337,
        ftp_w=154.0,
        avg_pace_min_per_km=None,
        has_graph=True,
        samples_count=1799,
        sample_interval_s=1.0,
        metric_length_mismatches=0,
        location_points=0,
    )
    assert row["distance_km"] == pytest.approx(12.82647168)

    rows = samples_of(samples, "cycling_class_hr")
    assert rows.height == 1799
    assert rows["offset_s"].to_list() == list(range(1, 1800))
    first, last = rows.row(0, named=True), rows.row(-1, named=True)
    expect(first, offset_s=1, output_w=39.0, cadence_rpm=98.0, resistance_pct=20.0)
    expect(first, speed_kph=10.6 * MI, heart_rate_bpm=88.0, pace_min_per_km=None)
    expect(last, offset_s=1799, output_w=16.0, cadence_rpm=55.0, speed_kph=6.5 * MI)
    assert rows["heart_rate_bpm"].to_list() == metric("cycling_class_hr", "heart_rate")["values"]
    assert rows["speed_kph"].to_list() == pytest.approx(
        [v * MI for v in metric("cycling_class_hr", "speed")["values"]]
    )


def test_second_cycling_class_zones_and_missing_heart_rate(workouts, samples) -> None:
    row = row_of(workouts, "cycling_class_hr_2")
    expect(
        row,
        title="30 min Power Zone Ride",
        instructor="Olivia Amato",
        avg_output_w=142.0,
        max_output_w=501.0,
        avg_speed_kph=18.6 * MI,
        max_speed_kph=30.0 * MI,
        distance_km=9.31 * MI,
        total_output_kj=256.0,
        calories_kcal=531.0,
        avg_heart_rate_bpm=153.0,
        max_heart_rate_bpm=185.0,
        hr_zone1_s=0.0,
        hr_zone2_s=0.0,
        hr_zone3_s=728.0,
        hr_zone4_s=903.0,
        hr_zone5_s=66.0,
        ftp_w=243.0,
        samples_count=1800,
    )
    rows = samples_of(samples, "cycling_class_hr_2")
    heart_rate = metric("cycling_class_hr_2", "heart_rate")["values"]
    # 0 bpm is Peloton's "no reading" (its missing_data_duration is 103): null in samples.
    assert heart_rate.count(0) == 103
    assert rows["heart_rate_bpm"].null_count() == 103
    assert rows["heart_rate_bpm"].to_list() == [v or None for v in heart_rate]


def test_freestyle_without_heart_rate_is_keyed_on_time_not_position(workouts, samples) -> None:
    row = row_of(workouts, "cycling_freestyle_no_hr")
    expect(
        row,
        title="30 min DAVID GUETTA HITS",
        instructor="LANEBREAK",
        workout_type="freestyle",
        peloton_id=None,
        ride_id="0" * 32,
        avg_output_w=112.0,
        max_output_w=342.0,
        avg_speed_kph=16.6 * MI,
        distance_km=8.39 * MI,
        avg_heart_rate_bpm=None,
        max_heart_rate_bpm=None,
        hr_zone1_s=None,
        hr_zone3_s=None,
        ftp_w=None,  # ftp_info says 0: no FTP
        leaderboard_rank=None,
        duration_s=1823.0,
        samples_count=1785,
        sample_interval_s=1.0,
    )
    rows = samples_of(samples, "cycling_freestyle_no_hr")
    seconds = graph_of("cycling_freestyle_no_hr")["seconds_since_pedaling_start"]
    assert rows["offset_s"].to_list() == seconds  # starts at 7, 2-s gaps kept as they are
    after_gap = rows.filter(pl.col("offset_s") == 43).row(0, named=True)  # 41 -> 43: a gap
    expect(after_gap, output_w=57.0, cadence_rpm=94.0, resistance_pct=26.0, speed_kph=12.7 * MI)
    assert rows.filter(pl.col("offset_s") == 42).is_empty()
    assert rows["heart_rate_bpm"].null_count() == rows.height


def test_scenic_fixed_distance_ride(workouts) -> None:
    expect(
        row_of(workouts, "cycling_scenic_fixed_distance"),
        title="5 KM Scotland Glencoe Ride",
        workout_type="scenic",
        instructor=None,
        is_outdoor=False,
        ride_length_s=None,  # the class has no duration, only a distance
        duration_s=647.0,
        distance_km=3.11 * MI,
        avg_speed_kph=17.3 * MI,
        max_speed_kph=18.3 * MI,
        avg_heart_rate_bpm=119.0,
        effort_points=6.3,
        hr_zone1_s=20.0,
        hr_zone2_s=625.0,
        hr_zone3_s=0.0,
        ftp_w=None,
        leaderboard_users=None,
        samples_count=645,
    )


def test_running_on_a_device_without_sensors(workouts, samples) -> None:
    row = row_of(workouts, "running_no_device_metrics")
    expect(
        row,
        title="30 min Progression Run",
        instructor="Matt Wilpers",
        fitness_discipline="running",
        calories_kcal=236.0,
        distance_km=None,
        avg_speed_kph=None,
        avg_pace_min_per_km=None,
        avg_output_w=None,
        total_output_kj=None,  # no summary, and total_work 0.0 J: nothing measured it
        total_work_kj=0.0,
        samples_count=1786,
        metric_length_mismatches=0,
    )
    rows = samples_of(samples, "running_no_device_metrics")
    assert rows.height == 1786
    assert rows.drop("workout_id", "offset_s").null_count().row(0) == (1786,) * 10


def test_tread_walk_pace_and_speed_from_alternatives(workouts, samples) -> None:
    row = row_of(workouts, "tread_walk")
    expect(
        row,
        fitness_discipline="walking",
        title="30 min Pop Punk Walk",
        avg_output_w=164.0,
        max_output_w=199.0,
        avg_pace_min_per_km=18.02 / MI,
        best_pace_min_per_km=14.63 / MI,
        avg_speed_kph=3.3 * MI,  # pace's alternatives hold speed
        max_speed_kph=4.1 * MI,
        avg_incline_pct=3.7,
        max_incline_pct=7.0,
        distance_km=1.66 * MI,
        elevation_m=264 * FT,
        total_output_kj=295.0,
        calories_kcal=292.0,
        avg_heart_rate_bpm=108.0,
        max_heart_rate_bpm=139.0,
        effort_points=9.89,
        hr_zone1_s=878.0,
        hr_zone2_s=478.0,
        hr_zone3_s=36.0,
        hr_zone4_s=0.0,
        leaderboard_rank=1558,
        leaderboard_users=3555,
    )
    assert row["elevation_m"] == pytest.approx(80.4672)
    rows = samples_of(samples, "tread_walk")
    pace = metric("tread_walk", "pace")["values"]
    speed = metric("tread_walk", "speed")["values"]
    assert rows["pace_min_per_km"].to_list()[:10] == [None] * 10  # as sent: null
    assert rows["pace_min_per_km"].to_list() == pytest.approx(
        [None if v is None else v / MI for v in pace]
    )
    assert rows["speed_kph"].to_list() == pytest.approx([v * MI for v in speed])
    at_43 = rows.filter(pl.col("offset_s") == 43).row(0, named=True)
    expect(at_43, output_w=117.0, pace_min_per_km=22.22 / MI, incline_pct=1.0, heart_rate_bpm=None)


def test_outdoor_walk_altitude_and_gps(workouts, samples, archive_dir) -> None:
    row = row_of(workouts, "outdoor_walk_gps")
    expect(
        row,
        device_type="iPhone",
        avg_pace_min_per_km=19.54 / MI,
        best_pace_min_per_km=18.29 / MI,
        avg_speed_kph=3.1 * MI,
        max_speed_kph=3.3 * MI,
        distance_km=1.53 * MI,
        elevation_m=26 * FT,
        avg_heart_rate_bpm=128.0,
        max_heart_rate_bpm=174.0,
        effort_points=18.96,
        hr_zone1_s=973.0,
        hr_zone2_s=415.0,
        hr_zone3_s=325.0,
        hr_zone4_s=86.0,
        hr_zone5_s=0.0,
        samples_count=1797,
        location_points=1797,
    )
    rows = samples_of(samples, "outdoor_walk_gps")
    altitude = metric("outdoor_walk_gps", "altitude")["values"]
    assert rows["altitude_m"].to_list() == pytest.approx([v * FT for v in altitude])
    expect(rows.row(0, named=True), offset_s=1, altitude_m=958 * FT, heart_rate_bpm=75.0)
    assert rows.filter(pl.col("offset_s").is_in([1042, 1043])).is_empty()  # a 3-s gap
    expect(rows.filter(pl.col("offset_s") == 1044).row(0, named=True), offset_s=1044)

    gps = pelodump.read_locations(archive_dir)
    assert gps.height == 1797
    assert set(gps["workout_id"]) == {IDS["outdoor_walk_gps"]}
    expect(
        gps.row(0, named=True),
        offset_s=1,
        latitude=37.19677,
        longitude=-94.45025,
        accuracy_m=12.68,
        distance_km=0.0,
        is_gap=False,
        segment_id="37b94cca8eba4efbb483ff6a7e54227e",
    )
    expect(gps.filter(pl.col("offset_s") == 300).row(0, named=True), distance_km=0.23 * MI)
    expect(gps.row(-1, named=True), offset_s=1799, latitude=37.19779, distance_km=1.53 * MI)


def test_rowing(workouts, samples) -> None:
    row = row_of(workouts, "rowing")
    expect(
        row,
        fitness_discipline="caesar",
        title="10 min Form & Drills Row",
        avg_output_w=55.0,
        max_output_w=93.0,
        avg_stroke_rate_spm=20.0,
        max_stroke_rate_spm=26.0,
        avg_split_pace_min_per_500m=3.26,
        best_split_pace_min_per_500m=2.79,
        distance_km=1.02328,  # 1023.28 m
        stroke_count=133.0,
        total_output_kj=23.0,
        calories_kcal=123.0,
        avg_heart_rate_bpm=125.0,
        max_heart_rate_bpm=147.0,
        effort_points=10.3,
        hr_zone1_s=164.0,
        hr_zone2_s=173.0,
        hr_zone3_s=246.0,
        hr_zone4_s=70.0,
        hr_zone5_s=0.0,
        is_personal_record=True,
        samples_count=600,
    )
    at_43 = samples_of(samples, "rowing").filter(pl.col("offset_s") == 43).row(0, named=True)
    expect(
        at_43,
        output_w=41.0,
        stroke_rate_spm=17.0,
        split_pace_min_per_500m=3.74,
        heart_rate_bpm=109.0,
        cadence_rpm=None,
    )


def test_meditation_has_no_metrics(workouts, samples) -> None:
    row = row_of(workouts, "meditation")
    expect(
        row,
        fitness_discipline="meditation",
        title="5 min Sleep Meditation",
        instructor="Anna Greenberg",
        duration_s=300.0,
        calories_kcal=None,
        distance_km=None,
        avg_output_w=None,
        avg_heart_rate_bpm=None,
        hr_zone1_s=None,
        samples_count=298,
    )
    assert samples_of(samples, "meditation").height == 298


def test_every_sample_mean_matches_its_json(samples) -> None:
    """Samples hold each metric's values, converted, at its own offsets: no shift, no loss."""
    columns = {"output": "output_w", "cadence": "cadence_rpm", "stroke_rate": "stroke_rate_spm"}
    for sample in IDS:
        rows = samples_of(samples, sample)
        graph = graph_of(sample)
        assert rows["offset_s"].to_list() == graph["seconds_since_pedaling_start"], sample
        for m in graph["metrics"]:
            if m["slug"] in columns:
                values = m["values"]
                assert rows[columns[m["slug"]]].mean() == pytest.approx(
                    sum(values) / len(values)
                ), sample


def test_segments_are_the_class_plan(archive_dir) -> None:
    segments = pelodump.read_segments(archive_dir)
    rowing = segments.filter(pl.col("workout_id") == IDS["rowing"]).sort("segment_index")
    assert rowing["name"].to_list() == ["Warm Up", "Drills", "Rowing", "Drills", "Rowing", "Drills"]
    assert rowing["start_offset_s"].to_list() == [0, 70, 155, 340, 400, 535]
    assert rowing["length_s"].to_list() == [70, 85, 185, 60, 135, 65]
    first = segments.filter(pl.col("workout_id") == IDS["cycling_class_hr"]).row(0, named=True)
    expect(
        first,
        segment_index=0,
        name="Warmup",
        icon_slug="warmup",
        start_offset_s=0.0,
        length_s=662.0,
        intensity_mets=3.5,
        metrics_type="cycling",
    )
    assert segments.filter(pl.col("workout_id") == IDS["cycling_freestyle_no_hr"]).is_empty()
    assert segments.height == 3 + 3 + 0 + 1 + 3 + 3 + 3 + 6 + 1


def test_metrics_long_keeps_every_value_as_sent(archive_dir) -> None:
    long = pelodump.read_metrics_long(archive_dir)
    tread = long.filter(pl.col("workout_id") == IDS["tread_walk"])
    assert sorted(set(tread["slug"])) == ["heart_rate", "incline", "output", "pace", "speed"]
    pace = tread.filter(pl.col("slug") == "pace")
    assert set(pace["unit"]) == {"min/mi"}
    assert pace["value"].to_list() == metric("tread_walk", "pace")["values"]  # not converted
    expected_rows = sum(
        len(m["values"]) + sum(len(a["values"]) for a in m.get("alternatives") or [])
        for sample in IDS
        for m in graph_of(sample)["metrics"]
    )
    assert long.height == expected_rows


def test_tables_join_on_workout_id_and_give_the_walkthrough_table(archive_dir, samples) -> None:
    workouts = pelodump.read_workouts(archive_dir)
    with_discipline = samples.join(
        workouts.select("workout_id", "fitness_discipline"), on="workout_id", how="left"
    )
    assert with_discipline["fitness_discipline"].null_count() == 0
    # The walkthrough's own table, as the README shows it.
    table = pelodump.read_workouts(archive_dir, discipline="cycling").select(
        "workout_id",
        "peloton_id",
        pl.col("local_start_time").dt.date().alias("date"),
        (pl.col("duration_s") / 60).alias("duration_min"),
        pl.col("total_output_kj").alias("total_output"),
        pl.col("max_output_w").alias("max_output"),
        pl.col("avg_output_w").alias("average_output"),
        pl.col("avg_cadence_rpm").alias("average_cadence"),
        pl.col("max_resistance_pct").alias("max_resistance"),
        pl.col("avg_resistance_pct").alias("average_resistance"),
        pl.col("avg_heart_rate_bpm").alias("average_heart_rate"),
        pl.col("max_heart_rate_bpm").alias("max_heart_rate"),
    )
    assert table.height == 4  # the four cycling samples, oldest first
    assert table.row(0) == (
        IDS["cycling_class_hr_2"],
        "71f625127e6645d8b9cd0b7c44fcca89",
        date(2020, 11, 17),  # 21:37 in New York: 02:37 on the 18th in UTC
        30.0,
        256.0,
        501.0,
        142.0,
        86.0,
        58.0,
        43.0,
        153.0,
        185.0,
    )
