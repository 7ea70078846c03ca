"""The rotation's rules as pure logic: order, dwell boundaries, updates, deletions, skips."""

from pixie.display.rotation import RANK, Entry, Rotation
from pixie.vocabulary import RANK as JOB_RANKS


def entry(name: str, rev: int = 1, dwell_s: float | None = 5.0) -> Entry:
    return Entry(name, rev, [name.encode()], [1_000_000], dwell_s)


def names(rotation: Rotation, turns: int) -> list[str]:
    shown = []
    for _ in range(turns):
        shown.append(rotation.current().app)
        rotation.advance()
    return shown


def test_apps_take_turns_in_order_and_rank_below_every_job():
    rotation = Rotation()
    assert not rotation
    rotation.update([entry("a"), entry("b"), entry("c")])
    assert rotation.current().rank == RANK > max(JOB_RANKS.values())
    assert names(rotation, 5) == ["a", "b", "c", "a", "b"]


def test_a_dwell_is_the_playback_length_and_none_plays_the_frames_once():
    rotation = Rotation()
    rotation.update([entry("still", dwell_s=2.5), entry("gif", dwell_s=None)])
    assert rotation.current().duration_us == 2.5e6
    rotation.advance()
    gif = rotation.current()
    assert gif.duration_us is None and not gif.finished()
    gif.advance()
    assert gif.finished()


def test_new_versions_wait_for_the_dwell_boundary_of_the_app_on_screen():
    rotation = Rotation()
    rotation.update([entry("a"), entry("b")])
    on_screen = rotation.current()
    assert rotation.update([entry("a", rev=2), entry("b", rev=2), entry("new")]) is False
    assert rotation.current() is on_screen and rotation.entries[0].rev == 1
    rotation.advance()
    assert [e.rev for e in rotation.entries] == [2, 2, 1] and names(rotation, 3) == ["b", "new", "a"]


def test_at_once_restarts_the_app_on_screen_with_its_new_frames():
    rotation = Rotation()
    rotation.update([entry("a"), entry("b")])
    rotation.current()
    assert rotation.update([entry("b", rev=2), entry("a", rev=2)], at_once=True) is True
    playing = rotation.current()
    assert playing.app == "a" and rotation.entries[rotation.index].rev == 2


def test_deleting_the_app_on_screen_shows_the_one_after_it_now():
    rotation = Rotation()
    rotation.update([entry("a"), entry("b"), entry("c")])
    rotation.advance()
    assert rotation.current().app == "b"
    assert rotation.update([entry("a"), entry("c")]) is True
    assert names(rotation, 3) == ["c", "a", "c"]
    rotation.current()
    assert rotation.update([]) is True and not rotation


def test_an_interrupted_app_resumes_where_it_was():
    rotation = Rotation()
    rotation.update([entry("a", dwell_s=10), entry("b")])
    playing = rotation.current()
    playing.advance()
    assert rotation.current() is playing and playing.played_us == 1_000_000


def test_skipping_moves_either_way_around_the_ring():
    rotation = Rotation()
    rotation.update([entry("a"), entry("b"), entry("c")])
    rotation.current()
    rotation.advance(-1)
    assert rotation.current().app == "c"
    rotation.advance(1)
    rotation.advance(1)
    assert rotation.current().app == "b"


def test_a_pinned_app_shows_now_and_turn_after_turn_until_unpinned():
    rotation = Rotation()
    apps = [entry("a"), entry("b"), entry("c")]
    rotation.update(apps)
    rotation.current()
    assert rotation.update(apps, pinned="c") is True
    assert names(rotation, 3) == ["c", "c", "c"]
    assert rotation.update(apps, pinned="gone") is False and rotation.pinned is None  # no such app: no pin
    assert names(rotation, 2) == ["c", "a"]


def test_a_new_face_of_the_same_version_shows_at_once_and_keeps_the_dwell_going():
    rotation = Rotation()
    rotation.update([entry("clock", dwell_s=10)])
    playing = rotation.current()
    playing.advance()
    ticked = Entry("clock", 1, [b"12:01"], [1_000_000], 10)
    assert rotation.refresh([ticked]) is True
    assert rotation.current() is playing and playing.frames == [b"12:01"] and playing.played_us == 1_000_000
    assert rotation.refresh([ticked]) is False  # the same face: nothing to redraw
    assert not rotation.same_versions([entry("clock", rev=2)])  # a new version: an update, which waits


def test_an_update_waiting_for_the_boundary_takes_the_new_faces_too():
    rotation = Rotation()
    rotation.update([entry("clock"), entry("text")])
    rotation.current()
    rotation.update([entry("clock"), entry("text")])  # the same versions again (a reload): waits for the boundary
    ticked = [Entry("clock", 1, [b"12:01"], [1_000_000], 5.0), entry("text")]
    assert rotation.same_versions(ticked)
    rotation.refresh(ticked)
    rotation.advance()
    rotation.advance()
    assert rotation.current().app == "clock" and rotation.current().frames == [b"12:01"]
