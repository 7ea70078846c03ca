"""Backup and restore end to end: one appliance set up over its API (apps of each sort, a pin, night mode,
brightness, an uploaded font and icon) backed up over real HTTP, restored into a fresh appliance, where the
same rotation plays (the frames compared); a backup corrupted, cut short, of a newer format or with an
invalid app in it is refused with a reason and changes nothing; the token guards both ways."""

import base64
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from test_apps import put_app, rendered, showing, solid
from test_library import BLOCKS

from appliance import Appliance
from media import disc_icon, still
from pixie import store
from pixie.stream import unpack
from testsupport.ansible import ENV, REPO, ansible_tool
from testsupport.servers import wait_for

DIM_RED = (255 * 60 // 100, 0, 0)  # red at the restored brightness, 60
APPS = ("greeting", "red", "picture", "morning")


def hhmm(delta_h: float) -> str:
    return (datetime.now() + timedelta(hours=delta_h)).strftime("%H:%M")


def full(appliance: Appliance) -> Appliance:
    appliance.start_web()
    appliance.start_worker("1")
    appliance.start_display()
    return appliance


@pytest.fixture(scope="module")
def source(redis_server, tmp_path_factory):
    """An appliance set up as a user would: four apps (a text in an uploaded font with an uploaded icon, a
    fill, an image, a text on a schedule open now), the fill pinned, night mode, a brightness, a transition."""
    appliance = full(Appliance(redis_server, tmp_path_factory.mktemp("source")))
    headers = {"Content-Type": "application/octet-stream"}
    assert appliance.request("PUT", "/api/v1/fonts/blocks", BLOCKS, headers)[0] == 200
    assert appliance.request("PUT", "/api/v1/icons/dot", disc_icon(), headers)[0] == 200
    text = {"kind": "text", "text": "HI", "font": "blocks", "icon": "dot", "color": "orange"}
    put_app(appliance, "greeting", content=text, dwell_s=0.5)
    put_app(appliance, "red", content={"kind": "fill", "color": "red"}, dwell_s=0.5)
    image = {"kind": "image", "data_b64": base64.b64encode(still(color=(0, 0, 255))).decode()}
    put_app(appliance, "picture", content=image, dwell_s=0.5)
    window = {"start": hhmm(-1), "end": hhmm(2)}
    put_app(
        appliance, "morning", content={"kind": "text", "text": "AM", "color": "lime"}, dwell_s=0.5, schedule=[window]
    )
    night = {"windows": [{"start": hhmm(3), "end": hhmm(4), "brightness": 10}], "enabled": True}
    assert appliance.request("PUT", "/api/v1/schedule", night)[0] == 200
    assert appliance.request("PUT", "/api/v1/brightness", {"brightness": 60})[0] == 200
    assert appliance.request("PUT", "/api/v1/transition", {"transition": "cut", "transition_ms": 0})[0] == 200
    assert appliance.request("POST", "/api/settings", {"ATIME": 12, "UPPERCASE": False})[0] == 200  # AWTRIX's
    rendered(appliance, *APPS)
    assert appliance.request("POST", "/api/v1/apps/red/pin")[0] == 200
    yield appliance
    appliance.stop()


@pytest.fixture(scope="module")
def backup(source) -> bytes:
    status, document, headers = source.request("GET", "/api/v1/backup")
    assert status == 200, document
    assert headers["Content-Disposition"].startswith('attachment; filename="pixie-')
    return json.dumps(document).encode()


def app_frames(appliance: Appliance) -> dict[str, list[bytes]]:
    """Each app's rendered frames, as the display plays them."""
    names = [a["name"] for a in appliance.request("GET", "/api/v1/apps")[1]["apps"]]
    return {name: unpack(blob).frames for name, (_, _, blob) in store.app_frames(appliance.v, names).items()}


def played(appliance: Appliance, runs: int = 12) -> list[bytes]:
    """The panel's frames from now, each run of one frame once, until `runs` of them have shown."""
    mark = len(appliance.frames())

    def seen():
        out = []
        for _, frame in appliance.frames()[mark:]:
            if not out or out[-1] != frame:
                out.append(frame)
        return out if len(out) > runs else None

    return wait_for(seen, timeout=30, what=f"{runs} frames on the panel")[1:]  # the first began before the mark


def cycle(frames: list[bytes]) -> list[bytes]:
    """The rotation's frames in order, starting at the lowest one (a cycle compared wherever it started)."""
    period = next(n for n in range(1, len(frames)) if frames[n:] == frames[: len(frames) - n])
    one = frames[:period]
    start = one.index(min(one))
    return one[start:] + one[:start]


def test_a_backup_holds_everything_set_up_with_a_manifest(source, backup):
    document = json.loads(backup)
    manifest = document["manifest"]
    assert manifest["format"] == 1 and manifest["pixie"] and manifest["device"] and manifest["created"]
    assert sorted(document["apps"]) == sorted(APPS)
    assert document["apps"]["picture"]["content"]["data_b64"]  # the image's file travels with it
    assert document["apps"]["morning"]["schedule"][0]["start"] == hhmm(-1)
    assert (document["pinned"], document["brightness"], document["power"]) == ("red", 60, True)
    assert document["night_mode"]["windows"][0]["brightness"] == 10 and document["night_mode"]["enabled"]
    assert document["transition"] == {"transition": "cut", "transition_ms": 0}
    assert list(document["fonts"]) == ["blocks"] and list(document["icons"]) == ["dot"]
    assert {k: document["awtrix"][k] for k in ("ATIME", "UPPERCASE")} == {"ATIME": 12, "UPPERCASE": False}


def test_an_app_whose_lifetime_ended_is_not_backed_up(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    put_app(appliance, "kept", content={"kind": "fill", "color": "red"})
    put_app(appliance, "brief", content={"kind": "fill", "color": "blue"}, lifetime_s=0.5)
    put_app(appliance, "marked", content={"kind": "fill", "color": "lime"}, lifetime_s=0.5, lifetime_mode="mark")
    time.sleep(0.7)
    assert sorted(appliance.request("GET", "/api/v1/backup")[1]["apps"]) == ["kept", "marked"]


def test_restored_into_a_fresh_appliance_the_same_rotation_plays(source, backup, redis_server, tmp_path):
    target = full(Appliance(redis_server, tmp_path))
    try:
        status, answer, _ = target.request("POST", "/api/v1/restore", backup, {"Content-Type": "application/json"})
        assert status == 200, answer
        assert sorted(answer["apps"]) == sorted(APPS) and (answer["fonts"], answer["icons"]) == (1, 1)
        rendered(target, *APPS)
        listed = target.request("GET", "/api/v1/apps")[1]
        assert [a["name"] for a in listed["apps"]] == [
            a["name"] for a in source.request("GET", "/api/v1/apps")[1]["apps"]
        ]
        assert listed["pinned"] == "red"
        showing(target, "red")
        wait_for(lambda: solid(target.frames()[-1][1]) == DIM_RED, timeout=10, what="the pinned fill, dimmed to 60")
        assert target.request("GET", "/api/v1/brightness")[1]["brightness"] == 60
        night = target.request("GET", "/api/v1/schedule")[1]
        assert night["enabled"] and night["windows"][0]["brightness"] == 10
        assert target.request("GET", "/api/v1/fonts/blocks?download=1")[1] == BLOCKS
        assert target.request("GET", "/api/v1/icons/dot?download=1")[1] == disc_icon()
        assert app_frames(target) == app_frames(source)  # each app drawn the same, font and icon too
        for appliance in (source, target):
            assert appliance.request("DELETE", "/api/v1/apps/red/pin")[0] == 200
        assert cycle(played(target)) == cycle(played(source))  # the same frames in the same order
        # a backup of the restored appliance holds what the first did (AWTRIX's colour as its API keeps one)
        again = target.request("GET", "/api/v1/backup")[1]
        first = json.loads(backup)
        first["awtrix"]["TCOL"] = first["awtrix"]["TCOL"].lower()
        assert {k: v for k, v in again.items() if k not in ("manifest", "pinned")} == {
            k: v for k, v in first.items() if k not in ("manifest", "pinned")
        }
        assert target.request("GET", "/api/settings")[1]["ATIME"] == 12
    finally:
        source.request("POST", "/api/v1/apps/red/pin")  # as the module's other tests found it
        target.stop()


@pytest.fixture
def bystander(make_appliance):
    """An appliance with its own set-up (an app, a brightness, a font) that a refused restore must leave as it is."""
    appliance = make_appliance()
    appliance.start_web()
    put_app(appliance, "mine", content={"kind": "fill", "color": "teal"})
    assert appliance.request("PUT", "/api/v1/brightness", {"brightness": 33})[0] == 200
    assert (
        appliance.request("PUT", "/api/v1/fonts/blocks", BLOCKS, {"Content-Type": "application/octet-stream"})[0] == 200
    )
    return appliance


def unchanged(appliance: Appliance, before: dict) -> None:
    after = appliance.request("GET", "/api/v1/backup")[1]
    assert after["manifest"]["sha256"] == before["manifest"]["sha256"], "the refused restore changed something"
    assert appliance.request("GET", "/api/v1/apps")[1]["apps"][0]["rev"] == 1


def edited(backup: bytes, change, keep_sha: bool = False) -> bytes:
    document = json.loads(backup)
    change(document)
    if not keep_sha:
        del document["manifest"]["sha256"]  # an edit on purpose: no sha256 to hold it to
    return json.dumps(document).encode()


def newer(document):
    document["manifest"]["format"] = 2


def bad_color(document):
    document["apps"]["red"]["content"]["color"] = "no-such-colour"


def no_font(document):
    del document["fonts"]["blocks"]


def flipped_pixel(document):  # still JSON, and still a valid app: only the sha256 tells
    document["apps"]["red"]["content"]["color"] = "blue"


def bad_icon(document):
    document["icons"]["dot"] = "bm90IGFuIGltYWdl"  # "not an image"


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (lambda b: b[:100] + b"\x00" + b[101:], 400, "not valid JSON"),
        (lambda b: b[: len(b) // 2], 400, "not valid JSON"),
        (lambda b: edited(b, newer, keep_sha=True), 422, "manifest.format 2 is newer than this Pixie"),
        (lambda b: edited(b, bad_color), 422, "apps.red: content.color"),
        (lambda b: edited(b, no_font), 422, "apps.greeting: font: no font named 'blocks'"),
        (lambda b: edited(b, flipped_pixel, keep_sha=True), 422, "manifest.sha256 does not match"),
        (lambda b: edited(b, bad_icon), 422, "icons.dot"),
        (lambda b: edited(b, lambda d: d.pop("manifest"), keep_sha=True), 422, "manifest: missing"),
    ],
    ids=[
        "corrupted",
        "truncated",
        "newer-format",
        "invalid-app",
        "missing-font",
        "checksum",
        "bad-icon",
        "no-manifest",
    ],
)
def test_a_bad_backup_is_refused_with_a_reason_and_nothing_changes(backup, bystander, body, status, reason):
    before = bystander.request("GET", "/api/v1/backup")[1]
    got, answer, _ = bystander.request("POST", "/api/v1/restore", body(backup), {"Content-Type": "application/json"})
    assert got == status and reason in answer["error"], answer
    unchanged(bystander, before)


def switched_off(document):
    flipped_pixel(document)
    document["power"] = False
    document["night_mode"]["enabled"] = False


def test_an_edited_backup_without_its_sha256_restores_and_replaces_what_was_there(backup, bystander):
    body = edited(backup, switched_off)
    status, answer, _ = bystander.request("POST", "/api/v1/restore", body, {"Content-Type": "application/json"})
    assert status == 200, answer
    red = bystander.request("GET", "/api/v1/apps/red")[1]
    assert red["content"]["color"] == "#0000ff" and bystander.request("GET", "/api/v1/apps/mine")[0] == 404
    assert bystander.request("GET", "/api/v1/brightness")[1]["brightness"] == 60
    assert bystander.request("GET", "/api/v1/power")[1] == {"on": False}
    night = bystander.request("GET", "/api/v1/schedule")[1]
    assert not night["enabled"] and night["windows"][0]["brightness"] == 10  # off, its windows kept


def test_the_token_guards_backup_and_restore(backup, guarded):
    assert guarded.request("GET", "/api/v1/backup", token="")[0] == 401
    assert guarded.request("POST", "/api/v1/restore", backup, {"Content-Type": "application/json"}, token="")[0] == 401
    assert (
        guarded.request("POST", "/api/v1/restore", backup, {"Content-Type": "application/json"}, token="wrong")[0]
        == 401
    )
    status, document, _ = guarded.request("GET", "/api/v1/backup")
    assert status == 200 and document["manifest"]["format"] == 1
    status, answer, _ = guarded.request("POST", "/api/v1/restore", backup, {"Content-Type": "application/json"})
    assert status == 200 and sorted(answer["apps"]) == sorted(APPS), answer
    assert guarded.request("GET", "/api/v1/backup")[1]["apps"] == json.loads(backup)["apps"]


def test_the_backup_playbook_pulls_dated_backups_keeps_the_newest_and_check_writes_nothing(make_appliance, tmp_path):
    """playbooks/backup.yml, really run (the device is this machine, its API an appliance's behind a token)."""
    guarded = make_appliance(token="playbook-token-0123456789")
    guarded.start_web()
    inventory = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(json.dumps({"all": {"children": {"displays": {"hosts": {"pixie-t": host}}}}}))
    backups = tmp_path / "backups"
    settings = {
        "pixie_backup_dir": str(backups),
        "pixie_backup_keep": 1,
        "pixie_common_web_port": guarded.port,
        "pixie_common_web_token": guarded.token,
        "pixie_common_credentials_dir": str(tmp_path / "credentials"),
    }

    def run(*flags: str, **more) -> subprocess.CompletedProcess:
        argv = [ansible_tool("ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks/backup.yml")]
        argv += ["-e", json.dumps({**settings, **more}), *flags]
        env = {**os.environ, **ENV, "ANSIBLE_STDOUT_CALLBACK": "default"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=REPO)

    checked = run("--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not backups.exists()  # --check asked the device and wrote nothing
    kept = []
    for _ in range(2):
        done = run()
        assert done.returncode == 0, done.stdout + done.stderr
        kept.append(sorted(f.name for f in (backups / "pixie-t").iterdir()))
        time.sleep(1.1)  # the next backup's second: another file
    (first,), (second,) = kept  # keep 1: the first run's file gone once the second's is written
    assert first != second and all(re.fullmatch(r"pixie-pixie-t-\d{8}T\d{6}Z\.json", n) for n in (first, second))
    newest = backups / "pixie-t" / second
    sha = json.loads(newest.read_text())["manifest"]["sha256"]
    assert sha == guarded.request("GET", "/api/v1/backup")[1]["manifest"]["sha256"]
    assert oct(newest.stat().st_mode & 0o777) == "0o600"
    refused = run(pixie_common_web_token="wrong-token-0123456789")
    assert refused.returncode != 0 and "GET /api/v1/backup: 401" in refused.stdout, refused.stdout
