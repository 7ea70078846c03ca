"""Night mode's rules as pure functions of explicit times (schedule.py), in a zone with DST."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pixie.schedule import Window, effective, is_open, next_boundary, open_run

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def at(text: str, zone=BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def window(start, end, brightness=0, **kw) -> Window:
    return Window.parse({"start": start, "end": end, "brightness": brightness, **kw})


# 2026-12-04 is a Friday.
@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-12-04 21:59", False),
        ("2026-12-04 22:00", True),
        ("2026-12-04 23:59", True),
        ("2026-12-05 00:00", True),  # Saturday morning: still Friday's window
        ("2026-12-05 06:59", True),
        ("2026-12-05 07:00", False),
        ("2026-12-05 23:00", False),  # Saturday's evening: not a window day
        ("2026-12-04 03:00", False),  # Friday morning: Thursday's run, and Thursday is not a day
    ],
)
def test_a_window_crossing_midnight_belongs_to_the_day_it_starts(moment, is_open):
    friday_nights = [window("22:00", "07:00", days=["fri"])]
    assert (open_run(friday_nights, at(moment)) is not None) is is_open


def test_an_app_without_windows_always_shows_and_with_them_only_inside_one():
    school_mornings = [Window.parse({"start": "07:00", "end": "08:30:30", "days": ["mon", "fri"]})]
    assert is_open([], at("2026-12-05 03:00"))
    assert is_open(school_mornings, at("2026-12-04 08:30:29"))  # Friday
    assert not is_open(school_mornings, at("2026-12-04 08:30:30"))
    assert not is_open(school_mornings, at("2026-12-05 07:30"))  # Saturday
    assert next_boundary(school_mornings, at("2026-12-05 07:30")) == at("2026-12-07 07:00")  # Monday


def test_a_window_ending_at_its_start_lasts_a_day():
    _, opens, closes = open_run([window("12:00", "12:00")], at("2026-12-04 18:00"))
    assert closes - opens == timedelta(hours=24)


def test_the_night_the_clocks_go_forward_is_an_hour_shorter():
    # 2026-03-29 02:00 CET -> 03:00 CEST
    _, opens, closes = open_run([window("22:00", "07:00")], at("2026-03-29 01:00"))
    assert closes - opens == timedelta(hours=8)


def test_a_start_inside_the_spring_gap_comes_as_long_after_the_jump():
    runs = [window("02:30", "05:00")]
    assert open_run(runs, at("2026-03-29 03:10")) is None
    assert open_run(runs, at("2026-03-29 03:31")) is not None
    assert open_run(runs, at("2026-03-30 02:31")) is not None  # the next night, 02:30 exists again


def test_a_time_in_the_repeated_autumn_hour_is_its_first_occurrence():
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:00-03:00 happens twice (00:00-01:00 and 01:00-02:00 UTC)
    first_0245, second_0245 = at("2026-10-25 00:45", UTC), at("2026-10-25 01:45", UTC)
    ends_0230 = [window("01:00", "02:30")]
    assert open_run(ends_0230, first_0245.astimezone(BERLIN)) is None
    assert open_run(ends_0230, second_0245.astimezone(BERLIN)) is None
    starts_0230 = [window("02:30", "06:00")]
    assert open_run(starts_0230, first_0245.astimezone(BERLIN)) is not None
    ends_0250 = [window("02:00", "02:50")]  # the second 02:45 is after the (first) 02:50
    assert open_run(ends_0250, first_0245.astimezone(BERLIN)) is not None
    assert open_run(ends_0250, second_0245.astimezone(BERLIN)) is None


def test_the_same_wall_times_in_another_zone_are_other_moments():
    evening = [window("22:00", "23:00")]
    moment = at("2026-12-04 21:30", UTC)  # 22:30 in Berlin
    assert open_run(evening, moment) is None
    assert open_run(evening, moment.astimezone(BERLIN)) is not None


def test_the_window_listed_last_wins_an_overlap():
    both = [window("20:00", "23:00", 30), window("22:00", "06:00", 0)]
    assert effective(both, at("2026-12-04 21:00"), 100, None) == 30
    assert effective(both, at("2026-12-04 22:30"), 100, None) == 0
    assert effective(both[::-1], at("2026-12-04 22:30"), 100, None) == 30


def test_outside_every_window_the_base_brightness_shows():
    assert effective([window("22:00", "07:00", 5)], at("2026-12-04 12:00"), 80, None) == 80
    assert effective([], at("2026-12-04 23:00"), 80, None) == 80


def test_a_fade_moves_from_the_base_to_the_window_over_its_minutes():
    dusk = [window("22:00", "23:00", 0, fade_min=10)]
    assert effective(dusk, at("2026-12-04 22:00"), 80, None) == 80
    assert effective(dusk, at("2026-12-04 22:05"), 80, None) == 40
    assert effective(dusk, at("2026-12-04 22:10"), 80, None) == 0
    assert effective(dusk, at("2026-12-04 22:40"), 80, None) == 0


def test_a_manual_change_in_a_window_holds_until_it_closes():
    nights = [window("22:00", "07:00", 0)]
    set_at = at("2026-12-04 23:00").timestamp()
    assert effective(nights, at("2026-12-05 03:00"), 80, (50, set_at)) == 50
    assert effective(nights, at("2026-12-05 08:00"), 80, (50, set_at)) == 80  # closed: the base again
    assert effective(nights, at("2026-12-05 23:00"), 80, (50, set_at)) == 0  # the next night: the window
    before = at("2026-12-04 21:00").timestamp()
    assert effective(nights, at("2026-12-04 23:00"), 80, (50, before)) == 0  # set before it opened


def test_the_next_boundary_is_the_nearest_opening_or_closing():
    nights = [window("22:00", "07:00", days=["fri", "sat"])]
    assert next_boundary(nights, at("2026-12-04 12:00")) == at("2026-12-04 22:00")
    assert next_boundary(nights, at("2026-12-04 23:00")) == at("2026-12-05 07:00")
    assert next_boundary(nights, at("2026-12-06 08:00")) == at("2026-12-11 22:00")  # Sunday: the next Friday
    assert next_boundary([], at("2026-12-04 12:00")) is None
