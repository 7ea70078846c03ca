"""The `pixie` command, run as installed (a real process), against real
appliances over HTTP; plus the API calls it and the page stand on."""

import base64
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from media import animated, still
from testsupport.output import Lines
from testsupport.servers import free_port, wait_for

GREEN = (0, 255, 0)
PIXIE = Path(sys.executable).parent / "pixie"  # the installed entry point


@pytest.fixture
def cli(tmp_path):
    """Run `pixie` with a home of its own (no stray ~/.config/pixie/cli.toml, no PIXIE_* from outside)."""
    home = tmp_path / "home"
    home.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PIXIE_") and k != "XDG_CONFIG_HOME"}
    base["HOME"] = str(home)

    def run(*args: str, host: str | None = None, env: dict | None = None, timeout=90, stdin: str | None = None):
        argv = [str(PIXIE), *(["--host", host] if host else []), *args]
        env = {**base, **(env or {})}
        return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)

    run.home = home
    return run


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pixie: "), result.stderr
    return lines[0]


def job_id(result) -> str:
    first = result.stdout.splitlines()[0]
    assert len(first) == 32 and all(c in "0123456789abcdef" for c in first), result.stdout
    return first


# ---- sending -----------------------------------------------------------------------------------


def test_text_with_wait_follows_the_job_until_it_plays(stack, cli):
    mark = len(stack.frames())
    result = ok(cli("text", "Hi", "--color", "red", "--duration", "0.5", "--wait", host=stack.url))
    job = job_id(result)
    assert result.stdout.split()[-1] in ("playing", "done")
    # Not a terminal: one progress line per state the job went through, on stderr.
    progress = result.stderr.splitlines()
    assert progress[-1].startswith(f"{job[:8]} playing") or progress[-1].startswith(f"{job[:8]} done"), progress
    record = stack.wait_state(job, "done")
    assert (record["kind"], record["priority"]) == ("text", "default")
    shown = [f for _, f in stack.frames()[mark:]]
    assert any(b"\xff\x00\x00" in f for f in shown), "the red text never reached the panel"


def test_push_a_gif_plays_it_as_an_animation(stack, cli, tmp_path):
    gif = tmp_path / "cat.gif"
    gif.write_bytes(animated("GIF", colors=((255, 0, 0), (0, 0, 255)), delay_ms=60))
    result = ok(cli("push", str(gif), "--priority", "high", "--repeat", "2", "--wait", host=stack.url))
    job = job_id(result)
    final = stack.wait_state(job, "done", "failed")
    assert (final["state"], final["kind"], final["priority"], final["frames"]) == ("done", "animation", "high", 2)


def test_push_a_still_with_fit_and_name(stack, cli, tmp_path):
    png = tmp_path / "photo.png"
    png.write_bytes(still("PNG", color=(0, 0, 255), size=(200, 50)))
    job = job_id(ok(cli("push", str(png), "--fit", "fill", "--duration", "0.2", "--name", "photo", host=stack.url)))
    final = stack.wait_state(job, "done", "failed")
    assert (final["state"], final["kind"], final["name"]) == ("done", "image", "photo")


def test_draw_sends_a_files_primitives_or_stdins_and_they_play(stack, cli, tmp_path):
    path = tmp_path / "art.json"
    path.write_text(json.dumps([{"op": "filled_rect", "x": 0, "y": 0, "w": 64, "h": 32, "color": "#00ff00"}]))
    mark = len(stack.frames())
    ok(cli("draw", str(path), "-d", "1", "--wait", host=stack.url))
    wait_for(lambda: any(f == bytes([0, 255, 0]) * 64 * 32 for _, f in stack.frames()[mark:]), what="green")
    mark = len(stack.frames())
    drawing = json.dumps([{"op": "pixel", "x": 63, "y": 31, "color": "red"}])
    ok(cli("draw", "-", "-b", "#000080", "-d", "1", "--wait", host=stack.url, stdin=drawing))
    navy_red = bytes([0, 0, 128]) * (64 * 32 - 1) + bytes([255, 0, 0])
    wait_for(lambda: any(f == navy_red for _, f in stack.frames()[mark:]), what="navy with a red corner")


@pytest.mark.parametrize(
    "content,message",
    [
        ("[{", "pixie: art.json is not JSON: "),
        (
            '{"op": "pixel"}',
            'pixie: art.json: expected a JSON list of primitives, e.g. [{"op": "pixel", "x": 0, "y": 0}]',
        ),
        (
            '[{"op": "circle", "x": 0, "y": 0, "r": -1}]',
            "pixie: 422 draw.0.r: Input should be greater than or equal to 0",
        ),
    ],
)
def test_draw_with_a_bad_file_fails_with_the_reason(idle, cli, tmp_path, content, message):
    (tmp_path / "art.json").write_text(content)
    result = cli("draw", str(tmp_path / "art.json"), host=idle.url)
    assert one_error_line(result).replace(str(tmp_path) + "/", "").startswith(message)


def test_layout_sends_a_files_fields_or_stdins_and_they_play(stack, cli, tmp_path):
    path = tmp_path / "screen.json"
    path.write_text(json.dumps({"children": [{"kind": "box", "color": "#00ff00"}]}))  # a box takes all it is given
    mark = len(stack.frames())
    job = job_id(ok(cli("layout", str(path), "-d", "1", "--wait", host=stack.url)))
    assert stack.wait_state(job, "done")["kind"] == "layout"
    wait_for(lambda: any(f == bytes([0, 255, 0]) * 64 * 32 for _, f in stack.frames()[mark:]), what="green")
    # As the API's examples are written (kind included); -b wins over the file's background.
    corner = {"kind": "box", "width": 1, "height": 1, "color": "red"}
    layout = json.dumps({"kind": "layout", "children": [corner], "background": "#00ff00"})
    mark = len(stack.frames())
    ok(cli("layout", "-", "-b", "#000080", "-d", "1", "--wait", host=stack.url, stdin=layout))
    red_navy = bytes([255, 0, 0]) + bytes([0, 0, 128]) * (64 * 32 - 1)
    wait_for(lambda: any(f == red_navy for _, f in stack.frames()[mark:]), what="navy with a red corner")


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"children": [', "pixie: screen.json is not JSON: "),
        (
            '[{"kind": "text", "text": "Hi"}]',
            "pixie: screen.json: expected a JSON object of the layout's fields, e.g. ",
        ),
        ('{"children": [{"kind": "icon"}]}', "pixie: 422 children.0.icon: Field required"),
    ],
)
def test_layout_with_a_bad_file_fails_with_the_reason_and_queues_nothing(idle, cli, tmp_path, content, message):
    before = idle.request("GET", "/api/v1/jobs")[1]["jobs"]
    (tmp_path / "screen.json").write_text(content)
    result = cli("layout", str(tmp_path / "screen.json"), host=idle.url)
    assert one_error_line(result).replace(str(tmp_path) + "/", "").startswith(message)
    assert idle.request("GET", "/api/v1/jobs")[1]["jobs"] == before


def test_progress_and_chart_send_their_fields_and_play(stack, cli):
    def last_frame_with(color: tuple, mark: int) -> Image.Image:
        frames = [f for _, f in stack.frames()[mark:] if bytes(color) in f]
        return Image.frombytes("RGB", (64, 32), frames[-1])

    mark = len(stack.frames())
    job = job_id(ok(cli("progress", "40", "--text", "Print", "--bar-color", "#ff0000", "-d", "1", host=stack.url)))
    assert stack.wait_state(job, "done")["kind"] == "progress"
    image = last_frame_with((255, 0, 0), mark)
    assert [image.getpixel((x, 31)) for x in (0, 24, 25, 63)] == [(255, 0, 0)] * 2 + [(255, 255, 255)] * 2
    mark = len(stack.frames())
    values = ("1", "5", "3", "8", "--line", "--min", "0", "--max", "8", "-c", "#00ff00", "-d", "1")
    job = job_id(ok(cli("chart", *values, host=stack.url)))
    assert stack.wait_state(job, "done")["kind"] == "chart"
    image = last_frame_with(GREEN, mark)
    assert [image.getpixel(xy) for xy in ((0, 28), (21, 12), (42, 20), (63, 0))] == [GREEN] * 4  # 1, 5, 3, 8 of 8


def test_a_bad_progress_or_chart_is_the_devices_one_sentence(idle, cli):
    assert one_error_line(cli("progress", "101", host=idle.url)) == "pixie: 422 progress must be 0..100, got 101"
    line = one_error_line(cli("chart", "1", "nan", host=idle.url))
    assert line == "pixie: 422 values.1: Input should be a finite number"
    result = cli("chart", "1", "lots", host=idle.url)
    assert result.returncode == 2 and "not a number: 'lots'" in result.stderr


def test_clear_is_a_high_priority_clear_job(stack, cli):
    job = job_id(ok(cli("clear", "--duration", "0.2", host=stack.url)))
    final = stack.wait_state(job, "done", "failed")
    assert (final["state"], final["kind"], final["priority"]) == ("done", "clear", "high")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        (b"", "{path} is empty"),
        (b"just some text, not a picture\n", "pixie: 415 not an image in a supported format"),
        (still("PNG")[:60], "pixie: 422 corrupt image"),
    ],
    ids=["missing", "empty", "not-an-image", "truncated"],
)
def test_push_a_bad_file_fails_with_the_reason(stack, cli, tmp_path, content, message):
    path = tmp_path / "upload.png"
    if content is not None:
        path.write_bytes(content)
    line = one_error_line(cli("push", str(path), host=stack.url))
    assert message.format(path=path) in line, line


# ---- reading -----------------------------------------------------------------------------------


def test_status_is_a_readable_table_of_health_queues_and_workers(stack, cli):
    out = ok(cli("status", host=stack.url)).stdout
    lines = out.splitlines()
    assert lines[0] == f"Pixie at {stack.url}: healthy"
    assert "redis up, 2 render worker(s), display heartbeat" in lines[1]
    assert any(line.startswith("Now playing: ") for line in lines)
    assert "Brightness: 100 %" in lines
    header = next(i for i, line in enumerate(lines) if line.split() == ["QUEUE", "QUEUED", "RENDERING", "FAILED"])
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["high", "default", "low"]
    workers = stack.request("GET", "/api/v1/queue")[1]["workers"]
    for worker in workers:
        assert any(line.split()[:1] == [worker["name"]] for line in lines), (worker, out)


def test_status_says_which_app_of_the_rotation_is_on_screen(stack, cli):
    app = {"content": {"kind": "fill", "color": "lime"}, "dwell_s": 300}
    assert stack.request("PUT", "/api/v1/apps/greenery", app)[0] == 200
    try:
        wait_for(lambda: stack.request("GET", "/api/v1/apps")[1]["showing"] == "greenery", what="the app on screen")
        assert "Now playing: app greenery" in ok(cli("status", host=stack.url)).stdout.splitlines()
    finally:
        stack.request("DELETE", "/api/v1/apps/greenery")


def test_status_of_an_appliance_without_workers_says_unhealthy_and_exits_1(idle, cli):
    result = cli("status", host=idle.url)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == f"Pixie at {idle.url}: UNHEALTHY"
    assert "No render worker is running." in result.stdout
    assert "display silent" in result.stdout


def test_jobs_lists_recent_jobs_newest_first_and_filters_by_state(stack, cli):
    first = stack.submit(kind="fill", color="blue", duration_s=0.1)
    second = stack.submit(kind="pattern", pattern="grid", duration_s=0.1)
    stack.wait_state(second, "done")
    stack.wait_state(first, "done")
    rows = [line.split() for line in ok(cli("jobs", "-n", "5", host=stack.url)).stdout.splitlines()]
    assert rows[0][:4] == ["ID", "KIND", "PRIORITY", "STATE"]
    ids = [row[0] for row in rows[1:]]
    assert len(ids) <= 5
    assert ids.index(second) < ids.index(first)
    assert rows[1 + ids.index(first)][1:4] == ["fill", "default", "done"]
    done = ok(cli("jobs", "--state", "done", "-n", "50", host=stack.url)).stdout.splitlines()[1:]
    assert done and all(line.split()[3] == "done" for line in done)


def test_screenshot_saves_what_the_panel_shows(stack, cli, tmp_path):
    job = stack.submit(kind="fill", color="#00ff00", duration_s=5)
    stack.wait_state(job, "playing")
    out = tmp_path / "shot.png"

    def green_shot():
        ok(cli("screenshot", str(out), "--scale", "2", host=stack.url))
        image = Image.open(out).convert("RGB")
        return image.size == (128, 64) and image.getpixel((5, 5)) == GREEN

    try:
        wait_for(green_shot, timeout=10, what="a green screenshot")
    finally:
        stack.request("DELETE", f"/api/v1/jobs/{job}")
    piped = ok(subprocess.run([str(PIXIE), "--host", stack.url, "screenshot", "-"], capture_output=True))
    assert Image.open(io.BytesIO(piped.stdout)).size == (512, 256)


# ---- changing things ---------------------------------------------------------------------------


def test_brightness_reads_and_sets(stack, cli):
    try:
        assert ok(cli("brightness", "40", host=stack.url)).stdout.strip() == "40"
        assert stack.request("GET", "/api/v1/brightness")[1] == {"brightness": 40}
        assert ok(cli("brightness", host=stack.url)).stdout.strip() == "40"
    finally:
        stack.request("PUT", "/api/v1/brightness", {"brightness": 100})


def test_a_bad_brightness_or_night_window_is_one_sentence_saying_what_it_takes(idle, cli):
    # The device's own sentence, as HTTP and MQTT give it: not argparse's 101 choices, not a regular expression.
    assert one_error_line(cli("brightness", "101", host=idle.url)) == "pixie: 422 brightness must be 0..100, got 101"
    line = one_error_line(cli("schedule", "set", "25:00-07:00=0", host=idle.url))
    assert line.startswith("pixie: 422 windows.0.start must be a time of day (HH:MM or HH:MM:SS, 00:00 to 23:59)")
    assert line.endswith('got "25:00"') and "^" not in line


def test_transition_reads_and_sets_the_default_and_an_app_takes_its_own(idle, cli):
    assert ok(cli("transition", host=idle.url)).stdout.strip() == "cut 400 ms"
    try:
        assert ok(cli("transition", "fade", "--ms", "250", host=idle.url)).stdout.strip() == "fade 250 ms"
        assert ok(cli("transition", "--ms", "300", host=idle.url)).stdout.strip() == "fade 300 ms"  # the name kept
        assert idle.request("GET", "/api/v1/transition")[1]["transition_ms"] == 300
        line = one_error_line(cli("transition", "swirl", host=idle.url))
        assert line.startswith("pixie: 422 transition: Input should be 'cut', 'fade'"), line
        own = ("--transition", "wipe-up", "--transition-ms", "120")
        ok(cli("app", "set", "red", "--fill", "red", *own, host=idle.url))
        app = idle.request("GET", "/api/v1/apps/red")[1]
        assert (app["transition"], app["transition_ms"]) == ("wipe-up", 120)
    finally:
        idle.request("DELETE", "/api/v1/apps/red")
        idle.request("PUT", "/api/v1/transition", {"transition": "cut", "transition_ms": 400})


def test_power_switches_the_panel_dark_and_back(stack, cli):
    job = stack.submit(kind="fill", color="white", duration_s=30)
    stack.wait_state(job, "playing")
    try:
        assert ok(cli("power", "off", host=stack.url)).stdout.strip() == "off"
        wait_for(lambda: set(stack.frames()[-1][1]) == {0}, what="a dark panel")
        assert ok(cli("power", host=stack.url)).stdout.strip() == "off"
        assert stack.request("GET", "/api/v1/state")[1]["power"] is False
        assert stack.state(job)["state"] == "playing"
        assert ok(cli("power", "on", host=stack.url)).stdout.strip() == "on"
        wait_for(lambda: set(stack.frames()[-1][1]) == {255}, what="lit again")
    finally:
        stack.request("PUT", "/api/v1/power", {"on": True})
        stack.request("DELETE", f"/api/v1/jobs/{job}")


def test_schedule_sets_shows_and_clears_night_mode(stack, cli):
    try:
        out = ok(cli("schedule", "set", "22:30-07:00=0", "--days", "fri,sat", "--fade", "15", host=stack.url)).stdout
        assert "22:30-07:00    0 %  fri,sat, fade 15 min" in out
        windows = stack.request("GET", "/api/v1/schedule")[1]["windows"]
        assert windows == [{"start": "22:30", "end": "07:00", "brightness": 0, "days": ["fri", "sat"], "fade_min": 15}]
        shown = ok(cli("schedule", "show", host=stack.url)).stdout
        assert "Night mode (" in shown and "next change" in shown and "fri,sat" in shown
        refused = one_error_line(cli("schedule", "set", "25:00-07:00=0", host=stack.url))
        assert "start" in refused
        assert stack.request("GET", "/api/v1/schedule")[1]["windows"] == windows  # kept
        bad = cli("schedule", "set", "22:30=0", host=stack.url)
        assert bad.returncode == 2 and "START-END=BRIGHTNESS" in bad.stderr
        assert "no windows" in ok(cli("schedule", "set", host=stack.url)).stdout
    finally:
        stack.request("PUT", "/api/v1/schedule", {"windows": []})


def test_cancel_a_queued_job_by_id_prefix_then_again_is_a_409(idle, cli):
    job = job_id(ok(cli("text", "never shown", host=idle.url)))
    assert idle.state(job)["state"] == "queued"
    assert ok(cli("cancel", job[:8], host=idle.url)).stdout.split() == [job, "canceled"]
    assert idle.state(job)["state"] == "canceled"
    line = one_error_line(cli("cancel", job, host=idle.url))
    assert line == f"pixie: 409 job {job} has already ended (canceled)"
    assert (
        one_error_line(cli("cancel", "ffffffffffff", host=idle.url))
        == "pixie: no recent job starts with 'ffffffffffff'"
    )


def test_a_canceled_job_says_canceled_once_in_jobs(idle, cli):
    job = job_id(ok(cli("text", "never shown", host=idle.url)))
    ok(cli("cancel", job, host=idle.url))
    rows = [line.split() for line in ok(cli("jobs", "-n", "50", host=idle.url)).stdout.splitlines()]
    (row,) = [r for r in rows if r[0] == job]
    assert row.count("canceled") == 1, row


def test_cancel_dismisses_a_playing_job(stack, cli):
    job = stack.submit(kind="fill", color="white", duration_s=60)
    stack.wait_state(job, "playing")
    assert ok(cli("cancel", job, host=stack.url)).stdout.split() == [job, "canceled"]
    nxt = stack.submit(kind="clear", duration_s=0.1)
    assert stack.wait_state(nxt, "done", timeout=10)["state"] == "done"


def test_wait_reports_a_failed_job_and_requeue_sends_it_round_again(make_appliance, cli, tmp_path):
    """An upload whose stored file expired before a worker got to it fails;
    once the file is back, `pixie requeue` renders and plays it."""
    from pixie import store

    appliance = make_appliance()
    appliance.start_web()
    appliance.start_display()
    png = tmp_path / "late.png"
    png.write_bytes(still("PNG", color=(0, 255, 0)))
    job = job_id(ok(cli("push", str(png), "--duration", "0.3", host=appliance.url)))
    blob = store.put_blob(appliance.r, png.read_bytes())  # the same content hash the API stored it under
    appliance.r.delete(store.blob_key(blob))
    waiting = subprocess.Popen(
        [str(PIXIE), "--host", appliance.url, "wait", job, "--until", "done", "--wait-timeout", "30"],
        env={**os.environ, "HOME": str(cli.home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = Lines(waiting.stderr)
    stderr.until(lambda _: True, "its first line")  # it is following the job before any worker exists
    appliance.start_worker("1")
    assert waiting.wait(60) == 1
    stderr.rest()
    *progress, error = stderr.text().splitlines()
    assert error == f"pixie: job {job} failed: ValueError: the uploaded file has expired; send it again"
    assert progress[0].startswith(f"{job[:8]} queued") and progress[-1].startswith(f"{job[:8]} failed"), progress
    listed = ok(cli("jobs", "--state", "failed", host=appliance.url)).stdout
    assert job in listed and "expired" in listed

    store.put_blob(appliance.r, png.read_bytes())
    result = ok(cli("requeue", job[:10], "--wait", host=appliance.url))
    requeued_id, requeued_state = result.stdout.splitlines()[0].split()
    assert requeued_id == job and requeued_state in ("queued", "rendering", "ready", "playing")
    assert result.stdout.split()[-1] in ("playing", "done")
    final = appliance.wait_state(job, "done", "failed")
    assert (final["state"], final["reason"]) == ("done", None)
    line = one_error_line(cli("requeue", job, host=appliance.url))
    assert line == f"pixie: 409 only a failed job can be requeued; job {job} is done"


# ---- errors ------------------------------------------------------------------------------------


def test_unreachable_device_is_one_line_and_exit_1(cli):
    port = free_port()  # nothing listens there
    line = one_error_line(cli("status", host=f"127.0.0.1:{port}"))
    assert line == f"pixie: cannot reach http://127.0.0.1:{port}: Connection refused"


def test_host_comes_from_pixie_host(stack, cli):
    result = ok(cli("brightness", env={"PIXIE_HOST": stack.url}))
    assert result.stdout.strip() == "100"
    assert one_error_line(cli("brightness", env={"PIXIE_HOST": "ftp://nowhere"})).startswith(
        "pixie: not a device address"
    )


def test_an_api_4xx_prints_its_reason(stack, cli):
    line = one_error_line(cli("text", "x" * 201, host=stack.url))
    assert line == "pixie: 422 text: String should have at most 200 characters"
    line = one_error_line(cli("text", "hi", "--speed", "1000", host=stack.url))
    assert line == "pixie: 422 speed: Input should be less than or equal to 500"
    line = one_error_line(cli("text", "hi", "--color", "blurple", host=stack.url))
    assert line == "pixie: 422 color: Value error, not a colour: 'blurple' (use #rrggbb or a CSS name)"


def test_token_from_environment_or_config_file(make_appliance, cli):
    appliance = make_appliance(token="s3cret")
    appliance.start_web()
    refused = one_error_line(cli("text", "hi", host=appliance.url))
    assert refused.startswith("pixie: 401 missing or wrong API token")
    assert "set PIXIE_TOKEN or token in" in refused and "cli.toml" in refused
    wrong = one_error_line(cli("brightness", "10", host=appliance.url, env={"PIXIE_TOKEN": "nope"}))
    assert wrong.startswith("pixie: 401")
    # Reads stay open without a token.
    assert ok(cli("jobs", host=appliance.url)).stdout.strip() == "No jobs."

    job = job_id(ok(cli("text", "hi", host=appliance.url, env={"PIXIE_TOKEN": "s3cret"})))
    assert appliance.state(job)["state"] == "queued"

    config = cli.home / ".config" / "pixie" / "cli.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'host = "{appliance.url}"\ntoken = "s3cret"\n')
    assert ok(cli("cancel", job)).stdout.split() == [job, "canceled"]
    config.write_text("token = [broken\n")
    assert one_error_line(cli("jobs")).startswith(f"pixie: cannot read {config}")


def test_backup_and_restore_round_trip_through_a_file_and_through_pipes(make_appliance, cli, tmp_path):
    source, target = make_appliance(token="s3cret"), make_appliance(token="s3cret")
    for appliance in (source, target):
        appliance.start_web()
    token = {"PIXIE_TOKEN": "s3cret"}
    picture = base64.b64encode(still(size=(64, 32))).decode()
    assert source.request("PUT", "/api/v1/apps/pic", {"content": {"kind": "image", "data_b64": picture}})[0] == 200
    assert source.request("PUT", "/api/v1/apps/hi", {"content": {"kind": "text", "text": "hi"}})[0] == 200
    assert source.request("PUT", "/api/v1/brightness", {"brightness": 42})[0] == 200
    saved = tmp_path / "pixie.json"
    assert ok(cli("backup", str(saved), host=source.url, env=token)).stdout.strip() == str(saved)
    restored = ok(cli("restore", str(saved), host=target.url, env=token)).stdout.strip()
    assert restored.startswith("restored 2 apps, 0 fonts, 0 icons from ") and "(Pixie " in restored
    assert [a["name"] for a in target.request("GET", "/api/v1/apps")[1]["apps"]] == ["pic", "hi"]
    assert target.request("GET", "/api/v1/brightness")[1]["brightness"] == 42
    # through pipes: what the target backs up now is what the source held
    piped = ok(cli("backup", "-", host=target.url, env=token)).stdout
    assert json.loads(piped)["manifest"]["sha256"] == json.loads(saved.read_text())["manifest"]["sha256"]
    ok(cli("restore", "-", host=source.url, env=token, stdin=piped))
    # refused whole, in one line: a backup cut short, no token, a file that is not there
    cut = one_error_line(cli("restore", "-", host=target.url, env=token, stdin=piped[: len(piped) // 2]))
    assert cut.startswith("pixie: 400 body is not valid JSON (a backup cut short or corrupted?)")
    assert one_error_line(cli("backup", "-", host=target.url)).startswith("pixie: 401")
    missing = one_error_line(cli("restore", str(tmp_path / "absent.json"), host=target.url, env=token))
    assert missing.startswith(f"pixie: cannot read {tmp_path / 'absent.json'}")


# ---- the API beneath the CLI and the page ------------------------------------------------------


def test_screen_png_answers_304_while_the_panel_is_unchanged(stack):
    status, png, headers = stack.request("GET", "/api/v1/screen.png?scale=1")
    etag = headers["ETag"]
    assert status == 200 and png.startswith(b"\x89PNG") and etag
    stack.v.set("pixie:display:screen", bytes([1, 2, 3]) * 64 * 32)  # what the display publishes
    status, body, headers = stack.request("GET", "/api/v1/screen.png?scale=1", headers={"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    assert Image.open(io.BytesIO(body)).getpixel((0, 0)) == (1, 2, 3)
    status, body, _ = stack.request("GET", "/api/v1/screen.png?scale=1", headers={"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    status, _, other = stack.request("GET", "/api/v1/screen.png?scale=2", headers={"If-None-Match": headers["ETag"]})
    assert status == 200 and other["ETag"] != headers["ETag"]


def test_jobs_list_includes_jobs_sent_straight_to_rq(idle):
    from rq import Queue
    from rq.serializers import JSONSerializer

    through_api = idle.submit(kind="fill", color="red")
    direct = Queue("low", connection=idle.r, serializer=JSONSerializer).enqueue("pixie.jobs.show_fill", color="blue")
    jobs = idle.request("GET", "/api/v1/jobs?limit=2")[1]["jobs"]
    assert [(j["id"], j["state"]) for j in jobs] == [(direct.id, "queued"), (through_api, "queued")]
    assert all(j["created"] for j in jobs)
    assert idle.request("GET", "/api/v1/jobs?state=bogus")[0] == 422
    assert idle.request("GET", "/api/v1/jobs?limit=0")[0] == 422


def test_requeue_refuses_what_it_cannot_do(idle, make_appliance):
    assert idle.request("POST", "/api/v1/jobs/nope/requeue")[:2] == (404, {"error": "no job nope"})
    queued = idle.submit(kind="clear")
    status, body, _ = idle.request("POST", f"/api/v1/jobs/{queued}/requeue")
    assert (status, body["error"]) == (409, f"only a failed job can be requeued; job {queued} is queued")
    guarded = make_appliance(token="t0ken")
    guarded.start_web()
    assert guarded.request("POST", "/api/v1/jobs/x/requeue", token="")[0] == 401


def test_info_and_openapi_describe_the_additions(make_appliance, idle):
    status, info, _ = idle.request("GET", "/api/v1/info")
    assert status == 200
    assert info["panel"] == {"width": 64, "height": 32} and info["token_required"] is False
    assert info["priorities"] == ["high", "default", "low"]
    guarded = make_appliance(token="t0ken")
    guarded.start_web()
    assert guarded.request("GET", "/api/v1/info", token="")[1]["token_required"] is True
    schema = idle.request("GET", "/openapi.json")[1]
    assert "get" in schema["paths"]["/api/v1/jobs"] and "post" in schema["paths"]["/api/v1/jobs"]
    assert "/api/v1/jobs/{job_id}/requeue" in schema["paths"]
    assert "/api/v1/info" in schema["paths"]
    assert "/" not in schema["paths"]


def test_page_and_its_assets_are_served_by_the_app(idle):
    status, html, headers = idle.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'src="/static/app.js"' in html and b'href="/static/style.css"' in html
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        status, body, headers = idle.request("GET", f"/static/{asset}")
        assert status == 200 and kind in headers["Content-Type"] and body
        # Nothing from another host at run time: no CDN, no web fonts.
        assert b"http://" not in body and b"https://" not in body
    assert b"http://" not in html and b"https://" not in html
    assert idle.request("GET", "/static/nope.js")[0] == 404


def test_the_cli_speaks_the_core_vocabulary():
    """The stdlib CLI keeps its own copy of the words; they must not drift from the core's."""
    from pixie import cli, vocabulary

    assert cli.PRIORITIES == vocabulary.PRIORITIES
    assert cli.STATES == vocabulary.STATES
    assert cli.ENDED == vocabulary.TERMINAL


def test_app_sets_lists_skips_and_removes_rotation_apps(stack, cli, tmp_path):
    gif = tmp_path / "blink.gif"
    gif.write_bytes(animated("GIF"))
    try:
        ok(cli("app", "set", "hello", "--text", "Hi", "--dwell", "4", host=stack.url))
        ok(cli("app", "set", "blink", "--file", str(gif), "--position", "0", host=stack.url))
        out = ok(cli("app", "set", "green", "--fill", "lime", "--disabled", host=stack.url)).stdout
        assert out.splitlines()[0].split() == ["NAME", "KIND", "DWELL", "S", "ENABLED", "SCHEDULE", "RENDERED"]
        apps = stack.request("GET", "/api/v1/apps")[1]["apps"]
        assert [(a["name"], a["content"]["kind"], a["dwell_s"], a["enabled"]) for a in apps] == [
            ("blink", "animation", None, True),
            ("hello", "text", 4.0, True),
            ("green", "fill", None, False),
        ]
        wait_for(lambda: stack.request("GET", "/api/v1/apps")[1]["showing"] in ("blink", "hello"), what="showing")
        ok(cli("app", "next", host=stack.url))
        assert "> " in ok(cli("app", "list", host=stack.url)).stdout
        pinned = ok(cli("app", "pin", "hello", host=stack.url)).stdout
        assert [line.split()[0] for line in pinned.splitlines() if "hello" in line][0] in ("*", "*>")
        assert "pinned: unpin it first" in one_error_line(cli("app", "next", host=stack.url))
        assert "*" not in ok(cli("app", "unpin", "hello", host=stack.url)).stdout
        refused = one_error_line(cli("app", "set", "bad", "--text", "x", "--dwell", "0", host=stack.url))
        assert "dwell_s" in refused
        ok(cli("app", "set", "time", "--clock", "12h", "--timezone", "Asia/Tokyo", "--color", "red", host=stack.url))
        clock = stack.request("GET", "/api/v1/apps/time")[1]["content"]
        assert clock == {"kind": "clock", "format": "12h", "timezone": "Asia/Tokyo", "color": "#ff0000"}
        later = datetime.now() + timedelta(hours=2)  # a window that is not open now
        span = f"{later:%H:%M}-{later + timedelta(minutes=1):%H:%M}"
        out = ok(cli("app", "set", "late", "--fill", "red", "--window", span, "--days", "sun", "--lifetime", "600",
                     host=stack.url)).stdout  # fmt: skip
        assert f"{span} sun (closed now)" in [line for line in out.splitlines() if "late" in line][0]
        late = stack.request("GET", "/api/v1/apps/late")[1]
        assert (late["schedule"][0]["days"], late["lifetime_s"], late["on_schedule"]) == (["sun"], 600, False)
        assert "is not START-END" in cli("app", "set", "x", "--fill", "red", "--window", "07:00").stderr
        ok(cli("app", "rm", "late", host=stack.url))
        ok(cli("app", "set", "newyear", "--countdown", "2027-01-01T00:00", "-c", "gold", host=stack.url))
        countdown = stack.request("GET", "/api/v1/apps/newyear")[1]["content"]
        assert countdown == {"kind": "countdown", "to": "2027-01-01T00:00", "color": "#ffd700"}
        ok(cli("app", "rm", "newyear", host=stack.url))
        ok(cli("app", "rm", "time", host=stack.url))
        ok(cli("app", "rm", "green", host=stack.url))
        assert "green" not in ok(cli("app", "list", host=stack.url)).stdout
        assert "no app nope" in one_error_line(cli("app", "rm", "nope", host=stack.url))
    finally:
        for name in ("hello", "blink", "green"):
            stack.request("DELETE", f"/api/v1/apps/{name}")


def test_app_set_takes_a_text_with_live_values_and_says_what_is_wrong_with_a_bad_one(stack, cli):
    try:
        ok(cli("app", "set", "temp", "--text", "{{home/temp}} °C", host=stack.url))
        app = stack.request("GET", "/api/v1/apps/temp")[1]
        assert (app["content"]["text"], app["live"][0]["topic"], app["live"][0]["shows"]) == (
            "{{home/temp}} °C",
            "home/temp",
            "–",
        )
        refused = one_error_line(cli("app", "set", "temp", "--text", "{{home/temp °C", host=stack.url))
        assert refused == "pixie: 422 content.text: the {{ at character 1 is not closed by }}", refused
    finally:
        stack.request("DELETE", "/api/v1/apps/temp")


def test_text_at_a_time_or_in_seconds_is_a_timed_job_the_device_holds(stack, cli):
    later = ok(cli("text", "Stand up", "--in", "600", host=stack.url))
    job = job_id(later)
    record = stack.state(job)
    assert record["state"] == "scheduled" and record["at"] > record["created"] + 590
    ok(cli("cancel", job, host=stack.url))
    assert stack.state(job)["state"] == "canceled"
    at = ok(cli("text", "Lunch", "--at", "12:00", host=stack.url))
    assert stack.state(job_id(at))["state"] == "scheduled"
    ok(cli("cancel", job_id(at), host=stack.url))
    past = cli("text", "x", "--at", "2020-01-01T00:00Z", host=stack.url)
    assert "is not between now and 24 h ahead" in one_error_line(past)
    both = cli("text", "x", "--at", "12:00", "--in", "5", host=stack.url)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_font_and_icon_add_list_and_rm_and_text_and_apps_name_them(stack, cli, tmp_path):
    font = tmp_path / "5x8.pcf.gz"
    font.write_bytes(Path("/usr/share/fonts/X11/misc/5x8.pcf.gz").read_bytes())
    dot = tmp_path / "dot.png"
    dot.write_bytes(still("PNG", GREEN, (8, 8)))
    added = ok(cli("font", "add", "tiny", str(font), host=stack.url)).stdout.splitlines()
    assert added[0].split() == ["NAME", "HEIGHT", "BYTES", "COVERAGE"]
    assert added[1].split()[:3] == ["tiny", "8", str(font.stat().st_size)] and "Latin" in added[1]
    listed = ok(cli("font", "list", host=stack.url)).stdout
    assert "6x13" in listed and "built-in" in listed and "tiny" in listed
    ok(cli("icon", "add", "8x8/dot", str(dot), host=stack.url))
    row = ok(cli("icon", "list", host=stack.url)).stdout.splitlines()[1].split()
    assert row == ["8x8/dot", "8x8", "1", str(dot.stat().st_size)]
    ok(cli("text", "Hi", "--font", "tiny", "--icon", "8x8/dot", "--duration", "0.3", "--wait", host=stack.url))
    try:
        ok(cli("app", "set", "tiny", "--text", "Hi", "--font", "tiny", "--icon", "8x8/dot", host=stack.url))
        content = stack.request("GET", "/api/v1/apps/tiny")[1]["content"]
        assert (content["font"], content["icon"]) == ("tiny", "8x8/dot")
    finally:
        stack.request("DELETE", "/api/v1/apps/tiny")
    assert "415 not a PNG, GIF or WebP" in one_error_line(cli("icon", "add", "bad", str(font), host=stack.url))
    ok(cli("font", "rm", "tiny", host=stack.url))
    ok(cli("icon", "rm", "8x8/dot", host=stack.url))
    assert "422 font: no font named 'tiny'" in one_error_line(cli("text", "Hi", "--font", "tiny", host=stack.url))
    assert "no icon named '8x8/dot'" in one_error_line(cli("text", "Hi", "--icon", "8x8/dot", host=stack.url))
    assert ok(cli("icon", "list", host=stack.url)).stdout.strip() == "no icons"
    assert "404 no font named 'tiny'" in one_error_line(cli("font", "rm", "tiny", host=stack.url))


def test_hash_token_prints_the_entry_the_app_takes_and_whoami_shows_the_tokens_scope(cli, make_appliance):
    import hashlib

    entry = ok(cli("hash-token", "phone", "push", stdin="phone-token-0123\n")).stdout.strip()
    assert entry == "phone:push:" + hashlib.sha256(b"phone-token-0123").hexdigest()
    assert "no token on stdin" in cli("hash-token", "phone", "push", stdin="").stderr
    assert cli("hash-token", "a phone", "push", stdin="x\n").returncode == 1
    appliance = make_appliance(web_tokens=entry)
    appliance.start_web()
    assert ok(cli("whoami", host=appliance.url, env={"PIXIE_TOKEN": "phone-token-0123"})).stdout == "phone: push\n"
    assert ok(cli("whoami", host=appliance.url)).stdout == "(no token): none\n"
