"""The simulated class library: kinds of workout, instructors, and classes ("rides").

Nothing here is stored per class. A class is a (kind, slot) pair and every attribute of it comes
from a hash of (seed, kind, slot), so a member with 30,000 workouts costs nothing until a body is
asked for. Names, texts and URLs are invented (URLs under the reserved `.invalid` domain).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import random
from dataclasses import dataclass

IMAGES = "https://images.pelodump.invalid"
STREAMS = "https://streams.pelodump.invalid"
JUST_RIDE_ID = "0" * 32
GYM_EVERY = 5  # every fifth strength class is a Peloton Gym class


def hex_id(*parts: object) -> str:
    """A stable 32-hex id (the API's id format) for the given parts."""
    return hashlib.md5(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def rng_for(*parts: object) -> random.Random:
    """A random generator that depends only on the given parts (str seeding is stable)."""
    return random.Random(":".join(map(str, parts)))


@dataclass(frozen=True)
class Kind:
    """One kind of workout: which discipline, device and sample shape its bodies follow."""

    name: str
    discipline: str  # fitness_discipline
    discipline_display: str
    shape: str  # the folder in shared/peloton-samples whose shapes this kind follows
    ride_family: str  # "classic", "running", "modern" or "freestyle": the ride object's keys
    device_type: str
    platform: str
    device_display: str
    metrics_type: str | None
    workout_name: str
    workout_type: str
    class_types: tuple[str, ...]
    minutes: tuple[int, ...]
    title_word: str
    content_format: str
    location: str
    has_pedaling_metrics: bool
    has_leaderboard: bool
    segment_plan: str  # how the class plan is cut, see `_segments`
    mets: float  # intensity of the main part, for calories
    share: float  # share of the member's workouts


KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind("cycling_class", "cycling", "Cycling", "cycling_class_hr", "classic", "home_bike_v1",
             "home_bike", "Bike", "cycling", "Cycling Workout", "class",
             ("Power Zone", "Intervals", "Climb", "Endurance", "Low Impact", "Music", "HIIT"),
             (10, 15, 20, 20, 30, 30, 30, 45, 45, 60), "Ride", "video", "studio-1", True, True,
             "cycling", 7.0, 0.33),
        Kind("just_ride", "cycling", "Cycling", "cycling_freestyle_no_hr", "freestyle",
             "home_bike_v1", "home_bike", "Bike", "cycling", "Just Ride", "freestyle",
             ("Just Ride",), (15, 20, 25, 30, 40), "Just Ride", "video", "", True, False,
             "none", 6.5, 0.05),
        Kind("scenic", "cycling", "Cycling", "cycling_scenic_fixed_distance", "modern",
             "home_bike_v1", "home_bike", "Bike", "cycling", "Scenic Ride", "scenic",
             ("Scenic",), (), "Ride", "video", "", True, True, "single", 6.0, 0.03),
        Kind("tread_run", "running", "Running", "tread_walk", "classic", "home_tread",
             "home_tread", "Tread", "running", "Running Workout", "class",
             ("Intervals", "Tempo", "Endurance", "Fun Run", "Progression"),
             (10, 20, 20, 30, 30, 45), "Run", "video", "studio-4", False, True, "running", 10.0,
             0.08),
        Kind("tread_walk", "walking", "Walking", "tread_walk", "classic", "home_tread",
             "home_tread", "Tread", "running", "Walking Workout", "class",
             ("Power Walk", "Hiking", "Fun Walk"), (20, 30, 30, 45), "Walk", "video", "studio-4",
             False, True, "walking", 4.5, 0.05),
        Kind("running_app", "running", "Running", "running_no_device_metrics", "running",
             "fire_tv", "fire_tv", "App", None, "Running Workout", "class",
             ("Intervals", "Tempo", "Endurance", "Progression"), (20, 30, 30, 45), "Run",
             "video", "studio-4", False, False, "running", 10.0, 0.03),
        Kind("outdoor_walk", "walking", "Walking", "outdoor_walk_gps", "classic", "iPhone",
             "iOS_app", "App", None, "Walking Workout", "class",
             ("Walk + Talk", "Fun Walk", "Power Walk"), (20, 30, 30, 45), "Walk", "audio",
             "audio-booth", False, False, "walking", 4.0, 0.06),
        Kind("outdoor_run", "running", "Running", "outdoor_walk_gps", "classic", "iPhone",
             "iOS_app", "App", None, "Running Workout", "class",
             ("Endurance", "Fun Run", "Tempo"), (20, 30, 30, 45), "Run", "audio", "audio-booth",
             False, False, "running", 9.5, 0.03),
        Kind("rowing", "caesar", "Rowing", "rowing", "modern", "caesar", "caesar", "Row",
             "caesar", "Rowing Workout", "class", ("Form & Drills", "Endurance", "Power"),
             (10, 15, 20, 20, 30), "Row", "video", "studio-3", False, True, "rowing", 7.0, 0.05),
        Kind("strength", "strength", "Strength", "meditation", "classic", "iPad", "iOS_app",
             "App", None, "Strength Workout", "class",
             ("Upper Body", "Lower Body", "Full Body", "Core"), (10, 10, 20, 20, 30), "Strength",
             "video", "studio-2", False, False, "strength", 5.0, 0.12),
        Kind("yoga", "yoga", "Yoga", "meditation", "classic", "iPad", "iOS_app", "App", None,
             "Yoga Workout", "class", ("Flow", "Restorative", "Power", "Slow Flow"),
             (10, 20, 30, 45), "Yoga", "video", "studio-2", False, False, "floor", 3.0, 0.06),
        Kind("stretching", "stretching", "Stretching", "meditation", "classic", "iPad",
             "iOS_app", "App", None, "Stretching Workout", "class",
             ("Full Body Stretch", "Pre-Ride Stretch", "Post-Run Stretch"), (5, 5, 10, 10, 15),
             "Stretch", "video", "studio-2", False, False, "floor", 2.5, 0.06),
        Kind("meditation", "meditation", "Meditation", "meditation", "classic", "android",
             "android", "App", None, "Meditation Workout", "class",
             ("Sleep", "Mindfulness", "Relaxation", "Gratitude"), (5, 5, 10, 10, 15, 20),
             "Meditation", "audio", "audio-booth", False, False, "meditation", 1.0, 0.03),
    ]
}  # fmt: skip


# --- instructors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instructor:
    first_name: str
    last_name: str
    disciplines: tuple[str, ...]
    quote: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def id(self) -> str:
        return hex_id("instructor", self.name)


INSTRUCTORS: tuple[Instructor, ...] = (
    Instructor("Avery", "Lindqvist", ("cycling", "strength"), "Show up for yourself."),
    Instructor("Priya", "Desmond", ("cycling", "stretching"), "Breathe, then push."),
    Instructor("Jonah", "Vale", ("cycling", "caesar"), "Every stroke counts."),
    Instructor("Inez", "Okafor", ("cycling", "yoga"), "Strong and steady."),
    Instructor("Rafael", "Duarte", ("running", "walking", "strength"), "Run your own race."),
    Instructor("Lena", "Marsh", ("running", "walking", "stretching"), "One more step."),
    Instructor("Caleb", "Nguyen", ("running", "cycling"), "Find your rhythm."),
    Instructor("Sofia", "Brandt", ("walking", "yoga", "meditation"), "Slow is smooth."),
    Instructor("Marcus", "Hale", ("strength", "cycling"), "Lift with intent."),
    Instructor("Noor", "Haddad", ("strength", "stretching"), "Form first."),
    Instructor("Elise", "Fontaine", ("yoga", "meditation", "stretching"), "Arrive where you are."),
    Instructor("Devon", "Park", ("caesar", "strength"), "Legs, core, arms."),
    Instructor("Hana", "Ito", ("meditation", "yoga"), "Notice, then let go."),
    Instructor("Owen", "Castellanos", ("caesar", "running"), "Long and strong."),
    Instructor("Talia", "Reyes", ("cycling", "running"), "Turn it up."),
    Instructor("Felix", "Moreau", ("cycling", "walking"), "Enjoy the ride."),
)
INSTRUCTORS_BY_ID: dict[str, Instructor] = {i.id: i for i in INSTRUCTORS}


def instructors_for(discipline: str) -> tuple[Instructor, ...]:
    return tuple(i for i in INSTRUCTORS if discipline in i.disciplines)


@functools.cache
def instructor_body(instructor: Instructor) -> dict:
    """The instructor object (`ride.instructor`, `/api/instructor/{id}`), keys as the real one."""
    i = instructor
    image = f"{IMAGES}/instructors/{i.id}"
    username = f"{i.first_name}{i.last_name}".upper()
    return {
        "id": i.id,
        "bio": f"{i.first_name} coaches {', '.join(i.disciplines)} classes.",
        "short_bio": i.quote,
        "coach_type": "peloton_coach",
        "is_filterable": True,
        "is_instructor_group": False,
        "is_visible": True,
        "is_announced": True,
        "list_order": INSTRUCTORS.index(i) + 1,
        "featured_profile": True,
        "film_link": "",
        "facebook_fan_page": "",
        "music_bio": f"A sample of {i.first_name}'s class playlist.",
        "spotify_playlist_uri": "",
        "background": f"{i.first_name} has taught for many years.",
        "ordered_q_and_as": [
            ["How do you motivate?\r\n", "By keeping it simple."],
            ["Outside of class\r\n", "Cooking, reading and long walks."],
            ["", ""],
        ],
        "instagram_profile": "",
        "strava_profile": "",
        "twitter_profile": "",
        "quote": i.quote,
        "username": username,
        "name": i.name,
        "first_name": i.first_name,
        "last_name": i.last_name,
        "user_id": hex_id("instructor-user", i.name),
        "life_style_image_url": f"{image}/life_style",
        "bike_instructor_list_display_image_url": None,
        "web_instructor_list_display_image_url": f"{image}/web_list",
        "ios_instructor_list_display_image_url": f"{image}/ios_list",
        "about_image_url": f"{image}/about",
        "image_url": f"{image}/portrait",
        "jumbotron_url": None,
        "jumbotron_url_dark": f"{image}/jumbotron_dark",
        "jumbotron_url_ios": f"{image}/jumbotron_ios",
        "web_instructor_list_gif_image_url": None,
        "instructor_hero_image_url": f"{image}/hero",
        "workout_share_images": [
            {"fitness_discipline": d, "image_url": f"{image}/share/{d}"} for d in i.disciplines
        ],
        "fitness_disciplines": list(i.disciplines),
    }


# --- classes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    icon: str
    start: int
    length: int
    mets: float
    metrics_type: str


@dataclass(frozen=True)
class Ride:
    """One class of the library, everything derived from (seed, kind, slot)."""

    id: str
    kind: Kind
    slot: int
    title: str
    class_type: str
    duration: int  # seconds of the class plan (for scenic rides: the expected time)
    distance: float | None  # scenic rides: the fixed distance, in `distance_unit`
    distance_unit: str | None  # "metric" or "imperial"
    instructor: Instructor | None
    air_time: int
    pedaling_start_offset: int
    segments: tuple[Segment, ...]
    difficulty: float
    rating: float
    rating_count: int
    total_workouts: int
    explicit: bool
    is_gym: bool  # a Peloton Gym class: its details answer 404

    @property
    def class_type_id(self) -> str:
        return hex_id("class-type", self.kind.discipline, self.class_type)


def _segments(
    ride_id: str, plan: str, duration: int, r: random.Random, class_type: str
) -> tuple[Segment, ...]:
    """The class plan: warm-up, main part(s) and cool-down, as the real segment lists are cut."""
    metrics_type = {"cycling": "cycling", "single": "cycling", "rowing": "caesar"}.get(
        plan, "running" if plan in ("running", "walking") else "floor"
    )
    if plan == "none":
        return ()
    if plan == "single":
        parts = [("Cycling", "cycling", duration, 6.0)]
    elif plan in ("meditation", "floor"):
        name = {"meditation": "Meditation"}.get(plan, "Yoga" if r.random() < 0.5 else "Stretch")
        icon = {"Meditation": "meditation", "Yoga": "yoga", "Stretch": "stretching"}[name]
        parts = [(name, icon, duration, 0.0 if plan == "meditation" else 2.5)]
    else:
        warm = min(duration // 4, 60 * r.randint(3, 11))
        cool = min(duration // 6, 60 * r.randint(1, 3))
        main = duration - warm - cool
        mets = {"cycling": 6.0, "running": 10.0, "walking": 4.0, "rowing": 7.0}.get(plan, 5.0)
        warm_mets = {"cycling": 3.5, "running": 8.0, "walking": 4.0}.get(plan, 3.0)
        main_name, main_icon = {
            "cycling": ("Cycling", "cycling"),
            "running": ("Running", "running"),
            "walking": ("Walking", "walking"),
            "rowing": ("Rowing", "caesar"),
            "strength": (class_type, class_type.lower().replace(" ", "_")),
        }[plan]
        mains = [(main_name, main_icon, main, mets)]
        if plan in ("rowing", "strength") and main >= 600:  # alternate work and drills / areas
            half = main // 2
            other = ("Drills", "caesar", 4.0) if plan == "rowing" else ("Core", "core", 4.5)
            if class_type == "Core":
                other = ("Full Body", "full_body", 5.0)
            mains = [(main_name, main_icon, half, mets), (*other[:2], main - half, other[2])]
        parts = [
            ("Warm Up", "warmup", warm, warm_mets),
            *mains,
            ("Cool Down", "cooldown", cool, 3.0),
        ]
    out, start = [], 0
    for i, (name, icon, length, mets) in enumerate(parts):
        out.append(
            Segment(hex_id(ride_id, "segment", i), name, icon, start, length, mets, metrics_type)
        )
        start += length
    return tuple(out)


class Catalog:
    """The classes a member can have taken: `slots_per_kind` classes per kind, aired evenly
    between `first_air` and `last_air`, so a workout at time t can take any class aired before t
    and a class is taken several times when the member has more workouts than there are slots."""

    def __init__(self, seed: int, first_air: int, last_air: int, slots_per_kind: int) -> None:
        self.seed = seed
        self.first_air = first_air
        self.last_air = last_air
        self.slots = max(2, slots_per_kind)

    def air_time(self, slot: int) -> int:
        step = (self.last_air - self.first_air) / self.slots
        # Live classes start on the hour or half hour.
        return int(self.first_air + slot * step) // 1800 * 1800

    def latest_slot_before(self, t: int) -> int:
        step = (self.last_air - self.first_air) / self.slots
        return max(0, min(self.slots - 1, math.floor((t - self.first_air) / step) - 1))

    def ride_id(self, kind_name: str, slot: int) -> str:
        return hex_id(self.seed, "ride", kind_name, slot)

    def plan(self, kind_name: str, slot: int) -> tuple[int, float | None, str | None]:
        """(duration, distance, distance unit) of a class, cheaply: from its id's bits alone,
        so that a member's metadata never needs whole classes."""
        kind = KINDS[kind_name]
        bits = int(self.ride_id(kind_name, slot), 16)
        if kind.name != "scenic":
            return 60 * kind.minutes[bits % len(kind.minutes)], None, None
        unit = ("metric", "imperial")[bits % 2]
        choices = (5, 10, 10, 20) if unit == "metric" else (3, 5, 10)
        distance = float(choices[(bits >> 8) % len(choices)])
        km = distance if unit == "metric" else distance * 1.609344
        return int(km / 28.0 * 3600), distance, unit  # the time at the filmed speed

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one catalog per member, lives as long
    def ride(self, kind_name: str, slot: int) -> Ride:
        kind = KINDS[kind_name]
        ride_id = self.ride_id(kind_name, slot)
        r = rng_for(self.seed, "ride", kind_name, slot)
        class_type = r.choice(kind.class_types)
        duration, distance, unit = self.plan(kind_name, slot)
        if kind.name == "scenic":
            title = f"{distance:g} {'KM' if unit == 'metric' else 'MI'} {r.choice(_PLACES)} Ride"
        else:
            title = f"{duration // 60} min {class_type} {kind.title_word}".replace(
                f"{kind.title_word} {kind.title_word}", kind.title_word
            )
        candidates = instructors_for(kind.discipline)
        instructor = None if kind.name in ("scenic", "just_ride") else r.choice(candidates)
        video = kind.content_format == "video" and kind.name != "scenic"
        rating_count = r.randint(50, 40_000)
        return Ride(
            id=ride_id,
            kind=kind,
            slot=slot,
            title=title,
            class_type=class_type,
            duration=duration,
            distance=distance,
            distance_unit=unit,
            instructor=instructor,
            air_time=self.air_time(slot),
            pedaling_start_offset=60 if video else 1,
            segments=_segments(ride_id, kind.segment_plan, duration, r, class_type),
            difficulty=round(r.uniform(3.0, 8.9), 4),
            rating=round(r.uniform(0.95, 0.999), 4),
            rating_count=rating_count,
            total_workouts=rating_count * r.randint(2, 9),
            explicit=r.random() < 0.2,
            is_gym=kind.name == "strength" and slot % GYM_EVERY == 0,
        )


_PLACES = ("Lakeside", "Canyon", "Coastal", "Vineyard", "Alpine", "Forest", "Harbour", "Desert")


# --- the ride object ---------------------------------------------------------------------------


def ride_body(ride: Ride, *, with_instructor: bool) -> dict:
    """The `ride` object joined into workouts, keys and order as the real one of its family."""
    kind = ride.kind
    if kind.ride_family == "modern":
        return _modern_ride(ride)
    body: dict = {}
    if with_instructor:
        body["instructor"] = instructor_body(ride.instructor) if ride.instructor else None
    body |= _classic_ride(ride, running=kind.ride_family == "running")
    return body


def just_ride_body(workout_id: str, created_at: int, length: int, *, with_instructor: bool) -> dict:
    """The ride of a Just Ride: the all-zero id and a handful of keys."""
    body: dict = {"id": JUST_RIDE_ID, "is_archived": False}
    if with_instructor:
        body["instructor"] = {"name": "JUST RIDE", "image_url": f"{IMAGES}/just-ride.png"}
    minutes = max(1, round(length / 60))
    body |= {"title": f"{minutes} min Just Ride", "scheduled_start_time": created_at}
    body["duration"] = length
    return body


def _join_token(ride: Ride) -> str:
    raw = f'{{"ride_id": "{ride.id}", "type": "on_demand"}}'.encode()
    return base64.b64encode(raw).decode()


def _stream_urls(ride: Ride) -> tuple[str, str]:
    return f"{ride.id}-live", f"{ride.id}-vod"


def _classic_ride(ride: Ride, *, running: bool) -> dict:
    kind = ride.kind
    live_id, vod_id = _stream_urls(ride)
    video = kind.content_format == "video"
    offset = ride.pedaling_start_offset
    studio = kind.location.startswith("studio")
    metrics = {
        "cycling": ["heart_rate", "cadence", "calories"],
        "running": ["heart_rate", "calories", "speed", "distance", "elevation"],
        "walking": ["heart_rate", "calories", "speed", "distance", "elevation"],
    }.get(kind.discipline, ["heart_rate"])
    if kind.name in ("outdoor_walk", "outdoor_run"):
        metrics = [*metrics[:4], "gps", "gps_accuracy", "altitude", "elevation"]
    body: dict = {
        "availability": {"is_available": True, "reason": None},
        "class_type_ids": [ride.class_type_id],
        "content_provider": "peloton_gym" if ride.is_gym else "peloton",
        "content_format": kind.content_format,
        "description": f"A {ride.duration // 60} minute {ride.class_type.lower()} class.",
        "difficulty_estimate": ride.difficulty,
        "overall_estimate": ride.rating,
        "difficulty_rating_avg": ride.difficulty,
        "difficulty_rating_count": ride.rating_count,
        "difficulty_level": ("beginner" if ride.difficulty < 5 else "intermediate")
        if running
        else None,
        "duration": ride.duration,
        "equipment_ids": [],
        "equipment_tags": [],
    }
    if running:
        body["explicit_rating"] = 1 if ride.explicit else 0
    body |= {
        "extra_images": [],
        "fitness_discipline": kind.discipline,
        "fitness_discipline_display_name": kind.discipline_display,
        "has_closed_captions": video,
        "has_pedaling_metrics": kind.has_pedaling_metrics,
        "home_peloton_id": hex_id(ride.id, "home") if studio else None,
        "id": ride.id,
        "image_url": f"{IMAGES}/rides/{ride.id}.png",
        "instructor_id": ride.instructor.id if ride.instructor else None,
        "individual_instructor_ids": [],
        "is_archived": True,
        "is_closed_caption_shown": video,
        "is_explicit": ride.explicit,
        "has_free_mode": False,
        "is_live_in_studio_only": studio,
        "language": "english",
        "origin_locale": "en-US",
        "length": ride.duration + offset + 60 * video + 2,
        "live_stream_id": live_id,
        "live_stream_url": None,
        "location": kind.location,
        "metrics": metrics,
        "original_air_time": ride.air_time,
        "overall_rating_avg": ride.rating,
        "overall_rating_count": ride.rating_count,
        "pedaling_start_offset": offset,
        "pedaling_end_offset": offset + ride.duration,
        "pedaling_duration": ride.duration,
        "rating": 0,
        "ride_type_id": ride.class_type_id,
        "ride_type_ids": [ride.class_type_id],
        "sample_vod_stream_url": None,
    }
    if running:
        body["sample_preview_stream_url"] = None
    body |= {
        "scheduled_start_time": ride.air_time,
        "series_id": hex_id(ride.id, "series"),
        "sold_out": False,
        "studio_peloton_id": hex_id(ride.id, "studio") if studio else None,
        "title": ride.title,
        "total_ratings": 0,
        "total_in_progress_workouts": ride.rating_count % 17,
        "total_workouts": ride.total_workouts,
        "vod_stream_url": None,
        "vod_stream_id": vod_id,
        "captions": ["en-US"] if video else [],
        "join_tokens": {"on_demand": _join_token(ride)},
        "flags": [],
        "is_dynamic_video_eligible": False,
        "is_fixed_distance": False,
        "dynamic_video_recorded_speed_in_mph": 0.0,
        "thumbnail_title": None,
        "thumbnail_location": None,
        "distance": 0.0 if kind.shape == "meditation" else None,  # as the real floor classes
        "distance_unit": None,
        "distance_display_value": None,
        "excluded_platforms": [] if video else ["home_bike", "home_tread"],
    }
    return body


def _modern_ride(ride: Ride) -> dict:
    kind = ride.kind
    live_id, vod_id = _stream_urls(ride)
    scenic = kind.name == "scenic"
    offset = ride.pedaling_start_offset
    distance_display = None
    if ride.distance is not None:
        distance_display = f"{ride.distance:g} {'km' if ride.distance_unit == 'metric' else 'mi'}"
    return {
        "has_closed_captions": not scenic,
        "content_provider": "virtual_active" if scenic else "peloton",
        "content_format": kind.content_format,
        "description": (
            f"Ride {ride.distance:g} {ride.distance_unit} through rolling scenery."
            if scenic
            else f"A {ride.duration // 60} minute {ride.class_type.lower()} class."
        ),
        "difficulty_rating_avg": 0.0 if scenic else ride.difficulty,
        "difficulty_rating_count": 0 if scenic else ride.rating_count,
        "difficulty_level": None,
        "distance": ride.distance,
        "distance_display_value": distance_display,
        "distance_unit": ride.distance_unit,
        "duration": None if scenic else ride.duration,
        "dynamic_video_recorded_speed_in_mph": 17.4 if scenic else 0.0,
        "extra_images": [],
        "fitness_discipline": kind.discipline,
        "fitness_discipline_display_name": kind.discipline_display,
        "has_pedaling_metrics": kind.has_pedaling_metrics,
        "home_peloton_id": None if scenic else hex_id(ride.id, "home"),
        "id": ride.id,
        "image_url": f"{IMAGES}/rides/{ride.id}.png",
        "instructor_id": ride.instructor.id if ride.instructor else None,
        "is_archived": True,
        "is_closed_caption_shown": False,
        "is_dynamic_video_eligible": scenic,
        "is_explicit": ride.explicit,
        "is_fixed_distance": scenic,
        "is_live_in_studio_only": not scenic,
        "language": "english",
        "length": ride.duration + offset + 2,
        "live_stream_id": live_id,
        "live_stream_url": None,
        "location": "On location" if scenic else kind.location,
        "metrics": ["heart_rate", "cadence", "calories"] if scenic else ["heart_rate", "calories"],
        "origin_locale": "en-US",
        "original_air_time": ride.air_time,
        "overall_rating_avg": ride.rating,
        "overall_rating_count": ride.rating_count,
        "pedaling_start_offset": offset,
        "pedaling_end_offset": offset + ride.duration,
        "pedaling_duration": ride.duration,
        "rating": 0,
        "ride_type_id": ride.class_type_id,
        "ride_type_ids": [ride.class_type_id],
        "sample_vod_stream_url": None,
        "sample_preview_stream_url": None,
        "scheduled_start_time": ride.air_time,
        "series_id": hex_id(ride.id, "series"),
        "sold_out": False,
        "studio_peloton_id": None if scenic else hex_id(ride.id, "studio"),
        "title": ride.title,
        "total_ratings": 0,
        "total_in_progress_workouts": ride.rating_count % 17,
        "total_workouts": ride.total_workouts,
        "vod_stream_url": f"{STREAMS}/{ride.id}/master.m3u8",
        "vod_stream_id": vod_id,
        "class_type_ids": [ride.class_type_id],
        "difficulty_estimate": 0.0 if scenic else ride.difficulty,
        "overall_estimate": ride.rating,
        "availability": {"is_available": True, "reason": None},
        "explicit_rating": 1 if ride.explicit else 0,
        "flags": [],
    }


def segment_body(segment: Segment, *, with_drill: bool) -> dict:
    body = {
        "id": segment.id,
        "length": segment.length,
        "start_time_offset": segment.start,
        "icon_url": f"{IMAGES}/segment-icons/{segment.icon}.png",
        "intensity_in_mets": segment.mets,
        "metrics_type": segment.metrics_type,
        "icon_name": segment.icon,
        "icon_slug": segment.icon,
        "name": segment.name,
    }
    if with_drill:
        body["is_drill"] = segment.name == "Drills"
    return body


def ride_details_body(ride: Ride, *, with_drill: bool) -> dict:
    """`GET /api/ride/{id}/details`: the class with its plan, playlist and averages."""
    r = rng_for("details", ride.id)
    ride_obj = ride_body(ride, with_instructor=True) | {
        "is_favorite": False,
        "total_user_workouts": 1,
        "total_following_workouts": 0,
        "leaderboard_filter_type": None,
    }
    songs = []
    offset = ride.pedaling_start_offset
    while offset < ride.duration:
        n = len(songs)
        artist = {"artist_id": hex_id(ride.id, "artist", n % 5), "artist_name": f"Artist {n % 5}"}
        songs.append(
            {
                "id": hex_id(ride.id, "song", n),
                "title": f"Track {n + 1}",
                "artists": [artist],
                "album": {
                    "id": hex_id(ride.id, "album", n),
                    "image_url": f"{IMAGES}/albums/{hex_id(ride.id, 'album', n)}.jpg",
                    "name": f"Album {n + 1}",
                },
                "cue_time_offset": offset,
                "start_time_offset": offset,
                "liked": False,
            }
        )
        offset += r.randint(150, 260)
    total = max(1, ride.duration)
    cues = []
    if ride.kind.discipline == "cycling" and ride.kind.name != "scenic":
        start = ride.pedaling_start_offset
        while start < ride.pedaling_start_offset + ride.duration:
            end = min(start + r.randint(30, 180), ride.pedaling_start_offset + ride.duration) - 1
            low = r.randint(25, 45)
            cad = r.randint(70, 95)
            cues.append(
                {
                    "offsets": {"start": start, "end": end},
                    "resistance_range": {"upper": low + 10, "lower": low},
                    "cadence_range": {"upper": cad + 10, "lower": cad},
                }
            )
            start = end + 1
    return {
        "ride": ride_obj,
        "class_types": [
            {
                "id": ride.class_type_id,
                "name": ride.class_type,
                "display_name": ride.class_type,
                "is_active": True,
                "list_order": ride.kind.class_types.index(ride.class_type) + 1,
                "fitness_discipline": ride.kind.discipline,
            }
        ],
        "playlist": {
            "id": hex_id(ride.id, "playlist"),
            "ride_id": ride.id,
            "top_artists": [s["artists"][0] for s in songs[:4]],
            "songs": songs,
            "is_top_artists_shown": True,
            "is_playlist_shown": True,
            "is_in_class_music_shown": True,
        },
        "averages": {
            "average_total_work": r.randint(100, 600),
            "average_distance": round(r.uniform(3, 20), 2),
            "average_calories": r.randint(50, 700),
            "average_avg_power": r.randint(80, 220),
            "average_avg_speed": round(r.uniform(12, 22), 1),
            "average_avg_cadence": r.randint(70, 95),
            "average_avg_resistance": r.randint(30, 55),
        },
        "segments": {
            "segment_list": [segment_body(s, with_drill=with_drill) for s in ride.segments],
            "segment_category_distribution": {
                s.name: str(round(s.length / total, 4)) for s in ride.segments
            },
            "segment_body_focus_distribution": {"cardio": "1.0"},
        },
        "default_album_images": {
            "default_in_class_image_url": f"{IMAGES}/albums/default_in_class.svg",
            "default_class_detail_image_url": f"{IMAGES}/albums/default_detail.svg",
        },
        "excluded_platforms": [],
        "is_ftp_test": False,
        "disabled_leaderboard_filters": {
            "just_me": False,
            "following": False,
            "age_and_gender": False,
        },
        "sampled_top_tags": None,
        "instructor_cues": cues,
        "target_class_metrics": {"target_graph_metrics": [], "total_expected_output": {}},
        "target_metrics_data": {"target_metrics": [], "total_expected_output": {}},
        "events": {"data": []},
    }
