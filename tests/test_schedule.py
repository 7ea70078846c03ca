"""Night mode's rules as pure functions of explicit times (schedule.py), in a zone with DST, and at
places whose sun times are published."""

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pixie import errors
from pixie.schedule import Bound, Window, check_place, effective, is_open, next_boundary, open_run

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


# --- The sun: windows at sunrise and sunset, at a place ---------------------------------------------
# Sun times published for people (to the minute, some to the second), not computed by the code under
# test; a window's sun time must be within a minute of them.
BERLIN_PLACE = (52.52, 13.405)
TROMSO, TROMSO_PLACE = ZoneInfo("Europe/Oslo"), (69.649, 18.956)
SYDNEY, SYDNEY_PLACE = ZoneInfo("Australia/Sydney"), (-33.869, 151.209)
PUBLISHED = [
    # Stiftung Planetarium Berlin for Tagesspiegel Checkpoint, the winter solstice 2024.
    (BERLIN, BERLIN_PLACE, "2024-12-21", "08:14:38", "15:54:41"),
    # Bild, the summer solstice 2019 ("In Berlin geht sie um 4.43 Uhr auf und um 21.33 Uhr unter").
    (BERLIN, BERLIN_PLACE, "2019-06-21", "04:43", "21:33"),
    # whattime.city/berlin/sun on 2026-03-28, "today" and "tomorrow": the day the clocks go forward.
    (BERLIN, BERLIN_PLACE, "2026-03-28", "05:51", "18:33"),
    (BERLIN, BERLIN_PLACE, "2026-03-29", "06:49", "19:35"),
    # sydneytravelguide.com.au, the winter solstice 2025; whattime.city/sydney/sun on 2026-03-28 (AEDT).
    (SYDNEY, SYDNEY_PLACE, "2025-06-21", "07:00", "16:54"),
    (SYDNEY, SYDNEY_PLACE, "2026-03-28", "07:05", "18:56"),
]


def sun_window(start, end, place, brightness=0, **kw) -> Window:
    return Window.parse({"start": start, "end": end, "brightness": brightness, **kw}, place)


def within_a_minute(moment: datetime, day: str, published: str, zone) -> bool:
    return abs(moment - at(f"{day} {published}", zone)) <= timedelta(minutes=1)


@pytest.mark.parametrize(("zone", "place", "day", "sunrise", "sunset"), PUBLISHED, ids=[p[2] for p in PUBLISHED])
def test_a_daylight_window_opens_at_the_published_sunrise_and_closes_at_the_published_sunset(
    zone, place, day, sunrise, sunset
):
    opens, closes = sun_window("sunrise", "sunset", place).run(date.fromisoformat(day), zone)
    assert within_a_minute(opens, day, sunrise, zone), opens.astimezone(zone)
    assert within_a_minute(closes, day, sunset, zone), closes.astimezone(zone)


def test_offsets_move_the_sun_times_by_hours_minutes_and_seconds():
    day, zone = date(2019, 6, 21), BERLIN
    opens, closes = sun_window("sunset-30m", "sunrise+1h15m", BERLIN_PLACE).run(day, zone)
    assert within_a_minute(opens, "2019-06-21", "21:03", zone)  # 21:33 - 30 min
    assert within_a_minute(
        closes, "2019-06-22", "05:58", zone
    )  # the next sunrise (04:43, a minute later at most) + 1h15
    plain = sun_window("sunset", "sunrise", BERLIN_PLACE).run(day, zone)
    assert (plain[0] - opens, closes - plain[1]) == (timedelta(minutes=30), timedelta(hours=1, minutes=15))
    seconds = sun_window("sunset+90s", "23:00", BERLIN_PLACE).run(day, zone)
    assert seconds[0] - plain[0] == timedelta(seconds=90)


def test_a_window_from_sunset_to_a_wall_time_and_back_to_sunrise():
    evening = sun_window("sunset", "23:00", BERLIN_PLACE)
    assert not is_open([evening], at("2019-06-21 21:30"))
    assert is_open([evening], at("2019-06-21 21:35"))
    assert not is_open([evening], at("2019-06-21 23:00"))
    early = sun_window("03:00", "sunrise", BERLIN_PLACE)
    assert is_open([early], at("2019-06-21 04:40")) and not is_open([early], at("2019-06-21 04:46"))


def test_the_next_change_of_a_sun_window_is_each_days_own_sun_time():
    """The sun sets later each spring evening, and an hour later by the clock once the clocks go forward."""
    evening = [sun_window("sunset", "23:00", BERLIN_PLACE)]
    first = next_boundary(evening, at("2026-03-28 12:00"))
    assert within_a_minute(first, "2026-03-28", "18:33", BERLIN)
    second = next_boundary(evening, at("2026-03-28 23:30"))
    assert within_a_minute(second, "2026-03-29", "19:35", BERLIN)  # CEST from 02:00
    assert next_boundary(evening, at("2026-03-28 20:00")) == at("2026-03-28 23:00")
    later = [next_boundary(evening, at(f"2026-04-{d:02} 12:00")) for d in (10, 11, 12)]
    steps = [b - a - timedelta(days=1) for a, b in itertools.pairwise(later)]
    assert all(timedelta(minutes=1) <= s <= timedelta(minutes=2) for s in steps), steps  # ~1.5 min a day


def test_a_night_from_sunset_to_sunrise_across_the_spring_change_lasts_as_long_as_the_real_night():
    run = open_run([sun_window("sunset", "sunrise", BERLIN_PLACE)], at("2026-03-29 01:00"))
    _, opens, closes = run
    assert within_a_minute(opens, "2026-03-28", "18:33", BERLIN)  # CET
    assert within_a_minute(closes, "2026-03-29", "06:49", BERLIN)  # CEST
    assert (
        timedelta(hours=11, minutes=14) <= closes - opens <= timedelta(hours=11, minutes=17)
    )  # not 12h16 by the clock


def test_the_autumn_change_moves_sunset_an_hour_earlier_by_the_clock_and_two_minutes_by_the_sun():
    # 2026-10-25 03:00 CEST -> 02:00 CET
    dusk = [sun_window("sunset-30m", "07:00", BERLIN_PLACE)]
    saturday = next_boundary(dusk, at("2026-10-24 12:00"))
    sunday = next_boundary(dusk, at("2026-10-25 12:00"))
    assert saturday.utcoffset() == timedelta(hours=2) and sunday.utcoffset() == timedelta(hours=1)
    assert timedelta(minutes=61) <= saturday.replace(tzinfo=None) - sunday.replace(tzinfo=None) + timedelta(days=1)
    by_the_sun = saturday.astimezone(UTC) - sunday.astimezone(UTC) + timedelta(days=1)
    assert timedelta(minutes=1) <= by_the_sun <= timedelta(minutes=3)
    _, opens, closes = open_run(dusk, at("2026-10-25 06:00"))  # Saturday's run, through the repeated hour
    assert closes == at("2026-10-25 07:00") and opens == saturday


def test_midnight_sun_in_tromso_a_window_from_sunset_never_opens_and_one_to_sunset_neither():
    """Published: the sun does not set in Tromsø from about 20 May to 22 July."""
    midsummer = at("2026-06-21 00:30", TROMSO)
    night = [sun_window("sunset", "sunrise", TROMSO_PLACE)]
    day = [sun_window("sunrise", "sunset", TROMSO_PLACE)]
    for hour in range(24):
        moment = midsummer.replace(hour=hour)
        assert open_run(night, moment) is None and open_run(day, moment) is None
    assert effective(night, midsummer, 80, None) == 80  # the base brightness all night
    back = next_boundary(night, midsummer)  # the first sunset after the midnight sun, months ahead
    assert date(2026, 7, 20) <= back.date() <= date(2026, 7, 31), back
    assert back.hour in (0, 23), back  # around midnight


def test_polar_night_in_tromso_a_window_from_sunrise_never_opens():
    """Published: the sun does not rise in Tromsø from late November to mid January."""
    midwinter = at("2026-12-21 12:00", TROMSO)
    from_sunrise = [sun_window("sunrise", "15:00", TROMSO_PLACE)]
    assert open_run(from_sunrise, midwinter) is None
    first = next_boundary(from_sunrise, midwinter)
    assert date(2027, 1, 10) <= first.date() <= date(2027, 1, 25), first
    assert first.hour == 11  # the sun's first, short day: around noon
    fixed = [sun_window("22:00", "07:00", TROMSO_PLACE)]  # wall-clock windows do not care
    assert open_run(fixed, midwinter.replace(hour=23)) is not None


def test_in_sydney_the_june_night_from_sunset_is_the_long_one():
    night = [sun_window("sunset", "sunrise", SYDNEY_PLACE)]
    _, opens, closes = open_run(night, at("2025-06-21 20:00", SYDNEY))
    assert within_a_minute(opens, "2025-06-21", "16:54", SYDNEY)
    assert timedelta(hours=14) <= closes - opens <= timedelta(hours=14, minutes=10)
    assert not is_open(night, at("2025-06-22 12:00", SYDNEY))


def test_without_a_location_a_sun_window_never_opens_and_is_refused():
    assert open_run([sun_window("sunset", "sunrise", None)], at("2026-12-04 23:00")) is None
    assert next_boundary([sun_window("sunset", "sunrise", None)], at("2026-12-04 23:00")) is None
    windows = [{"start": "22:00", "end": "07:00"}, {"start": "22:00", "end": "sunrise+30m"}]
    with pytest.raises(errors.Invalid, match=r"^windows\.1\.end: sunrise\+30m needs the device's location"):
        check_place(windows, None, "windows")
    check_place(windows, BERLIN_PLACE, "windows")
    check_place(windows[:1], None, "windows")  # wall-clock windows need no location


@pytest.mark.parametrize("text", ["sunset-30", "sunset-13h", "sunset+", "noon", "Sunset", "sunset-30m ", "24:00"])
def test_a_bound_is_a_wall_time_or_the_sun_with_an_offset_of_at_most_12h(text):
    with pytest.raises(ValueError, match="is not HH:MM|at most 12h"):
        Bound.parse(text)


def test_offsets_may_combine_hours_minutes_and_seconds():
    assert Bound.parse("sunrise+1h15m") == Bound(sun="sunrise", offset=timedelta(hours=1, minutes=15))
    assert Bound.parse("sunset-12h").offset == -timedelta(hours=12)
    assert Bound.parse("sunset+1h0m30s").offset == timedelta(hours=1, seconds=30)
    assert Bound.parse("22:30") == Bound(wall=time(22, 30))
