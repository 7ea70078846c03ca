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

from testsupport.mqtt import Client
from testsupport.output import Lines
from testsupport.servers import answers, free_port, wait_for

BIN = Path(sys.executable).parent


def test_pixie_local_runs_the_whole_appliance_and_its_mqtt_door(tmp_path):
    ports = {name: free_port() for name in ("redis", "volatile", "web", "mqtt")}
    env = {
        **os.environ,
        "PIXIE_CONFIG": str(tmp_path / "absent.toml"),
        "PIXIE_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "PIXIE_REDIS_VOLATILE_URL": f"redis://127.0.0.1:{ports['volatile']}/0",
        "PIXIE_WEB_PORT": str(ports["web"]),
        "PIXIE_MQTT_PORT": str(ports["mqtt"]),
        "PIXIE_MQTT_DEVICE": "desk",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [str(BIN / "pixie-local"), "--backend", "headless", "--workers", "1", "--state", str(tmp_path / "state")]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    output = Lines(proc.stdout)
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
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"{name} still listens on {port}"
