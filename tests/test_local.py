"""`make run`'s program, `pixie-local`, started as a person starts it: its own Redis servers, its own
mosquitto, the whole appliance on the headless STAND-IN panel; what it prints works, Ctrl-C stops it all."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from pixie.local import backoff
from testsupport.mqtt import Client
from testsupport.output import Lines
from testsupport.servers import answers, free_port, wait_for

BIN = Path(sys.executable).parent


def test_pixie_local_runs_the_whole_appliance_and_its_mqtt_door(tmp_path):
    env, ports = local_env(tmp_path)
    proc, output = local(env, tmp_path / "state", "--backend", "headless", "--workers", "1")
    try:
        api = f"http://127.0.0.1:{ports['web']}"
        wait_for(lambda: proc.poll() is not None or answers(f"{api}/healthz"), what="a healthy appliance", timeout=60)
        assert proc.poll() is None, f"pixie-local exited ({proc.returncode}); it printed:\n{''.join(output.rest())}"
        printed = output.until(lambda line: line.startswith("  MQTT:"), "its MQTT line")
        topic = re.search(r"-t (\S+)", printed).group(1)
        assert topic == "pixie/desk/notify" and f"-p {ports['mqtt']}" in printed
        c = Client(ports["mqtt"], "pixie/desk/jobs/+")
        c.publish(topic, {"kind": "text", "text": "hello from make run"})
        done = c.wait(lambda: [json.loads(m.payload) for m in c.messages if b'"done"' in m.payload], "a job done")
        with urllib.request.urlopen(f"{api}/api/v1/jobs/{done[0]['id']}") as answer:
            assert json.load(answer)["kind"] == "text"
        c.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    for name, port in ports.items():  # nothing of it is left listening
        if name in UDP:
            assert not listening(port, "udp"), f"{name} still listens on {port}"
            continue
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"{name} still listens on {port}"


UDP = ("flaschen_taschen", "ddp")  # the live inputs (make run turns both on)


def local_env(tmp_path, **settings) -> tuple[dict, dict]:
    """pixie-local's environment on ports of its own: (env, ports)."""
    ports = {name: free_port() for name in ("redis", "volatile", "web", "mqtt", "panel", *UDP)}
    env = {
        **os.environ,
        "PIXIE_CONFIG": str(tmp_path / "absent.toml"),
        "PIXIE_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "PIXIE_REDIS_VOLATILE_URL": f"redis://127.0.0.1:{ports['volatile']}/0",
        "PIXIE_WEB_PORT": str(ports["web"]),
        "PIXIE_MQTT_PORT": str(ports["mqtt"]),
        "PIXIE_MQTT_DEVICE": "desk",
        "PIXIE_DISPLAY_EMULATOR_PORT": str(ports["panel"]),
        "PIXIE_INPUTS_FLASCHEN_TASCHEN_PORT": str(ports["flaschen_taschen"]),
        "PIXIE_INPUTS_DDP_PORT": str(ports["ddp"]),
        "PYTHONUNBUFFERED": "1",
        **{f"PIXIE_{k}".upper(): v for k, v in settings.items()},
    }
    return env, ports


def local(env: dict, state: Path, *args: str) -> tuple[subprocess.Popen, Lines]:
    """pixie-local started as `make run` starts it, all it prints (stdout and stderr) in one stream."""
    argv = [str(BIN / "pixie-local"), "--state", str(state), *args]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, Lines(proc.stdout)


def banner(output: Lines) -> list[str]:
    """The lines from "Pixie is running." to "Ctrl-C stops everything.", once the appliance is healthy."""
    output.until(lambda line: line.startswith("Pixie is running."), "the banner", timeout=90)
    start = len(output.read) - 1
    output.until(lambda line: "Ctrl-C" in line, "the banner's end")
    return [line.rstrip("\n") for line in output.read[start:]]


def stopped(proc: subprocess.Popen, output: Lines) -> str:
    """Ctrl-C, then all it printed."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0, output.text()
    output.rest()
    return output.text()


def listening(port: int, protocol: str = "tcp") -> set[str]:
    """The addresses something listens on at `port` (TCP or UDP, IPv4 and IPv6), from the kernel's tables."""
    found = set()
    waiting = {"tcp": "0A", "udp": "07"}[protocol]  # LISTEN; a UDP socket bound, not connected
    for table, family in ((f"/proc/net/{protocol}", socket.AF_INET), (f"/proc/net/{protocol}6", socket.AF_INET6)):
        for row in Path(table).read_text().splitlines()[1:]:
            local_address, state = row.split()[1], row.split()[3]
            address, hex_port = local_address.split(":")
            if state == waiting and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                found.add(socket.inet_ntop(family, b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))))
    return found


def test_make_run_shows_the_page_first_once_healthy_without_chatter_and_the_panel_on_loopback(tmp_path):
    env, ports = local_env(tmp_path)
    proc, output = local(env, tmp_path / "state", "--backend", "emulator", "--workers", "1")
    try:
        lines = banner(output)
        api, panel = f"http://127.0.0.1:{ports['web']}", f"http://127.0.0.1:{ports['panel']}"
        assert lines[1] == f"  Page:  {api}/", lines
        assert f"  Panel: {panel}  (emulated: no LED panel here; this machine only)" in lines, lines
        assert any(line.startswith(f"  State: {tmp_path / 'state'}") for line in lines), lines
        before = output.text()[: output.text().index("Pixie is running.")]
        assert "display on emulator back-end" in before and "Application startup complete" in before, before
        assert answers(f"{api}/") and answers(f"{panel}/")
        assert listening(ports["panel"]) == {"127.0.0.1"}
        # What made chatter before: MQTT clients coming and going, a job, the emulated panel's page read.
        c = Client(ports["mqtt"], "pixie/desk/jobs/+")
        c.publish("pixie/desk/notify", {"kind": "text", "text": "quiet"})
        c.wait(lambda: any(b'"done"' in m.payload for m in c.messages), "the job done")
        c.close()
    finally:
        printed = stopped(proc, output)
    chatter = ("RGBME", "Emulator config", "tornado.access", "New connection", "New client", "disconnected")
    assert not [line for line in printed.splitlines() if any(word in line for word in chatter)], printed


def test_the_emulated_panel_is_shown_to_the_network_only_when_asked(tmp_path):
    env, ports = local_env(tmp_path, display_emulator_host="0.0.0.0")
    proc, output = local(env, tmp_path / "state", "--backend", "emulator", "--workers", "1")
    try:
        lines = banner(output)
        assert f"  Panel: http://127.0.0.1:{ports['panel']}  (emulated: no LED panel here; on the network too)" in lines
        assert listening(ports["panel"]) == {"0.0.0.0"}
    finally:
        stopped(proc, output)


def test_make_run_takes_flaschen_taschen_and_ddp_on_loopback_at_once(tmp_path):
    env, ports = local_env(tmp_path)
    proc, output = local(env, tmp_path / "state", "--backend", "headless", "--workers", "1")
    try:
        lines = banner(output)
        ft, ddp, api = ports["flaschen_taschen"], ports["ddp"], f"http://127.0.0.1:{ports['web']}"
        assert any(
            line.startswith(f"  Live:  FlaschenTaschen udp 127.0.0.1:{ft}, DDP udp 127.0.0.1:{ddp}") for line in lines
        )
        assert "         hzeller's send-image -g 64x32 -h 127.0.0.1 image.png" in lines, lines
        assert listening(ft, "udp") == {"127.0.0.1"} and listening(ddp, "udp") == {"127.0.0.1"}
        # Written from the protocols' documents: FlaschenTaschen's a P6 PPM per datagram (hzeller's
        # doc/protocols.md); DDP's a 10-byte header (version 1 + push, sequence, RGB 8 bit, display 1,
        # offset and length big-endian) and the RGB bytes.
        pixels = bytes([255, 0, 0, 0, 0, 255])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"P6\n2 1\n255\n" + pixels, ("127.0.0.1", ft))
            sender.sendto(bytes([0x41, 1, 0x0B, 1, 0, 0, 0, 0, 0, len(pixels)]) + pixels, ("127.0.0.1", ddp))

        def received() -> tuple[int, int]:
            with urllib.request.urlopen(f"{api}/api/v1/inputs") as answer:
                state = json.load(answer)
            return state["flaschen_taschen"]["received"], state["ddp"]["received"]

        wait_for(lambda: received() == (1, 1), what="a datagram taken by each input", timeout=10)
    finally:
        stopped(proc, output)


def children(pid: int) -> dict[str, int]:
    """pixie-local's processes by their command ("pixie-worker 2", "pixie-mqtt"): their process ids."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
        script = next((i for i, a in enumerate(argv) if Path(a).name.startswith("pixie-")), None)
        if script is not None:
            found[" ".join([Path(argv[script]).name, *argv[script + 1 :]])] = int(child)
    return found


def test_a_worker_or_the_bridge_that_dies_is_started_again_and_the_appliance_plays_on(tmp_path):
    env, ports = local_env(tmp_path)
    proc, output = local(env, tmp_path / "state", "--backend", "headless", "--workers", "2")
    try:
        banner(output)
        api = f"http://127.0.0.1:{ports['web']}"

        def listed() -> set[str]:
            return {w["name"] for w in json.load(urllib.request.urlopen(f"{api}/api/v1/queue"))["workers"]}

        workers = listed()
        c = Client(ports["mqtt"], "pixie/desk/availability", "pixie/desk/jobs/+")
        c.wait(lambda: c.on("pixie/desk/availability"), "the bridge online")
        old = children(proc.pid)
        for command in ("pixie-worker 2", "pixie-mqtt"):
            os.kill(old[command], signal.SIGKILL)
            line = output.until(lambda line, command=command: line.startswith("pixie-local:"), f"{command}'s line")
            name = "worker2" if command.startswith("pixie-worker") else "mqtt"
            assert line.strip() == f"pixie-local: {name} exited (signal 9); starting it again in 1 s", line
        assert proc.poll() is None, "pixie-local itself goes on"
        again = wait_for(
            lambda: (
                (now := children(proc.pid)).get("pixie-worker 2", old["pixie-worker 2"]) != old["pixie-worker 2"]
                and now.get("pixie-mqtt", old["pixie-mqtt"]) != old["pixie-mqtt"]
                and now
            ),
            what="both started again",
        )
        assert again["pixie-worker 1 --with-scheduler"] == old["pixie-worker 1 --with-scheduler"]
        assert again["pixie-display"] == old["pixie-display"] and again["pixie-web"] == old["pixie-web"]
        # The bridge is back (its will said offline, it says online again) and takes a job that plays.
        c.wait(lambda: [m.payload for m in c.on("pixie/desk/availability")][-2:] == [b"offline", b"online"], "back")
        c.publish("pixie/desk/notify", {"kind": "text", "text": "still here"})
        c.wait(lambda: any(b'"done"' in m.payload for m in c.messages), "the job done")
        c.close()
        wait_for(lambda: [name for name in listed() - workers if ".w2." in name], what="the new worker 2 registered")
    finally:
        stopped(proc, output)


def test_reset_state_forgets_what_make_run_kept_and_is_refused_while_it_runs(tmp_path):
    env, ports = local_env(tmp_path)
    state, api = tmp_path / "state", f"http://127.0.0.1:{ports['web']}"
    reset = [str(BIN / "pixie-local"), "--state", str(state), "--reset-state"]

    def jobs() -> list[str]:
        with urllib.request.urlopen(f"{api}/api/v1/jobs") as answer:
            return [job["id"] for job in json.load(answer)["jobs"]]

    def run(action=lambda: None) -> list[str]:
        """The jobs a make run lists, after `action`."""
        proc, output = local(env, state, "--backend", "headless", "--workers", "1")
        try:
            banner(output)
            action()
            return jobs()
        finally:
            stopped(proc, output)

    sent: list[str] = []

    def send_and_try_a_reset() -> None:
        body = json.dumps({"kind": "text", "text": "kept"}).encode()
        request = urllib.request.Request(f"{api}/api/v1/jobs", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            sent.append(json.load(answer)["id"])
        refused = subprocess.run(reset, env=env, capture_output=True, text=True, timeout=30)
        assert refused.returncode == 1 and "stop make run first" in refused.stderr, refused

    assert run(send_and_try_a_reset) == sent
    assert run() == sent  # kept across a restart, in the state directory
    done = subprocess.run(reset, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and not state.exists(), done
    assert run() == []


def test_a_process_exiting_again_and_again_waits_longer_each_time_and_anew_once_it_ran_a_minute():
    noted, delays = None, []
    for ran_s in (0.5, 3, 10, 0, 59.9, 20, 1, 60, 5, 120):  # each exit, after running this long
        delay, noted = backoff(noted, ran_s)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30, 1, 2, 1]
