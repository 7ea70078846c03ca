"""The panel through the service in-process: the brightness, kept and sent to the display, and night mode."""

import time
from datetime import datetime, timedelta

import pytest

from pixie import errors, store
from pixie.spec import NightMode


def test_brightness_is_kept_and_sent_to_the_display(service):
    assert service.panel.brightness() == 100  # the configured default
    assert service.panel.set_brightness(40) == 40
    assert service.panel.brightness() == 40
    assert store.take_commands(service.r, 0.1) == [{"brightness": 40}]
    with pytest.raises(errors.Invalid, match="0..100"):
        service.panel.set_brightness(101)


def _around_now(brightness: int) -> dict:
    """A night-mode window open now: from an hour ago to an hour ahead (local time, as the C library says)."""
    start, end = (datetime.now().astimezone() + timedelta(hours=h) for h in (-1, 1))
    return {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "brightness": brightness}


def test_night_mode_sets_the_brightness_while_its_window_is_open(service):
    service.panel.set_brightness(80)
    state = service.panel.set_night_mode(NightMode(windows=[_around_now(10)]))
    assert (state.brightness, state.window_open) == (10, True)
    assert state.next_change is not None and 3500 < state.next_change.timestamp() - time.time() < 3700
    assert store.take_commands(service.r, 0.1)[-1] == {"brightness": 10}
    assert service.panel.set_night_mode(NightMode(windows=[])).brightness == 80  # off: the base again


def test_a_brightness_set_in_a_window_holds_until_it_closes_and_keeps_the_base(service):
    service.panel.set_brightness(80)
    service.panel.set_night_mode(NightMode(windows=[_around_now(10)]))
    assert service.panel.set_brightness(55) == 55
    assert service.panel.brightness() == 55
    assert service.r.get(store.BRIGHTNESS) == b"80"  # the base is what shows once the window closes
    assert 3500 < service.r.ttl(store.MANUAL_BRIGHTNESS) < 3700  # it expires as the window closes
    assert service.panel.set_night_mode(NightMode(windows=[])).brightness == 80


def test_night_mode_off_keeps_its_windows_and_on_again_applies_them(service):
    service.panel.set_brightness(80)
    windows = [_around_now(10)]
    service.panel.set_night_mode(NightMode(windows=windows))
    off = service.panel.set_night_mode_on(False)
    assert (off.enabled, off.brightness, off.window_open, off.next_change) == (False, 80, False, None)
    assert [w.start for w in off.windows] == [windows[0]["start"]]
    assert service.panel.state().night_mode is False
    assert store.take_commands(service.r, 0.1)[-1] == {"brightness": 80}
    on = service.panel.set_night_mode_on(True)
    assert (on.enabled, on.brightness, service.panel.state().night_mode) == (True, 10, True)
    assert service.panel.set_night_mode(NightMode(windows=windows, enabled=False)).brightness == 80
