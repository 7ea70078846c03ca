"""pixie_mqtt's broker files, for REAL: the role's config.yml renders mosquitto's settings, its
password file and its ACL into a folder of the test's own (real ansible-playbook, the role's
defaults), a real `mosquitto` runs on them on a free port, and the protocol's reference clients
(mosquitto_pub / mosquitto_sub, not Pixie's code) prove who may do what: no anonymous client,
the device's user on its own and its groups' topics and on Home Assistant discovery, nothing of
another device's. The password file is written only when a password does not verify
(mosquitto_passwd salts every hash afresh): a second run changes nothing, a new password is
written and works, the old one no longer does."""

from __future__ import annotations

import getpass
import grp
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from roles_support import ROLES, issue_tls, role_defaults, role_tasks, run_playbook, vars_file

from testsupport.servers import free_port, wait_for
from testsupport.tools import require


@pytest.fixture(autouse=True)
def broker_tools():
    require("mosquitto", "mosquitto_sub", "mosquitto_pub")


DEVICE = "pixie-1"
ADMIN = {"name": "admin", "password": "admin-password-123", "topics": ["readwrite pixie/#", "read homeassistant/#"]}
READABLE = ["home/#", "homeassistant/sensor/+/state"]  # what its apps' live values come from
SENSORS = {"name": "sensors", "password": "sensors-password-123", "topics": ["write #"]}  # publishes values
PASSWORD_TASK = "Write the broker's password file (only the users whose line does not verify)"


def broker_play(tmp_path: Path, overrides: dict) -> list[dict]:
    """pixie_mqtt's config.yml alone, its paths and owner pointed into tmp_path (handlers: stand-ins)."""
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir(exist_ok=True)
    # A task file imported by path finds templates and files beside the playbook, not in its role.
    for folder in ("templates", "files"):
        if not (tmp_path / folder).exists():
            (tmp_path / folder).symlink_to(ROLES / "pixie_mqtt" / folder)
    values = {
        "pixie_common_credentials_dir": str(tmp_path / "credentials"),
        "pixie_common_mqtt_device": DEVICE,
        "pixie_common_mqtt_groups": ["displays", "hall"],
        "pixie_common_mqtt_readable_topics": READABLE,
        "pixie_mqtt_config": str(conf_d / "pixie.conf"),
        "pixie_mqtt_password_file": str(tmp_path / "pixie.passwd"),
        "pixie_mqtt_acl_file": str(tmp_path / "pixie.acl"),
        "pixie_mqtt_owner": getpass.getuser(),
        "pixie_mqtt_group": grp.getgrgid(os.getgid()).gr_name,
        "pixie_mqtt_users": [ADMIN, SENSORS],
        **overrides,
    }
    return [
        {
            "name": "the broker's files",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": role_defaults("pixie_common", "pixie_mqtt")
            + [str(ROLES / "pixie_mqtt" / "vars" / "main.yml"), vars_file(tmp_path, values, "broker.yml")],
            "tasks": [{"name": "Broker files", "ansible.builtin.import_tasks": role_tasks("pixie_mqtt", "config.yml")}],
            "handlers": [
                {"name": name, "ansible.builtin.debug": {"msg": name}}
                for name in ("Restart mosquitto", "Reload mosquitto")
            ],
        }
    ]


class Broker:
    def __init__(self, tmp_path: Path, port: int):
        self.tmp_path, self.port = tmp_path, port
        self.password = (tmp_path / "credentials" / "mqtt_password").read_text().strip()
        # The package's mosquitto.conf, reduced to its include_dir; run as root, mosquitto
        # would drop to its own user, which may not read the test's folder.
        main = tmp_path / "mosquitto.conf"
        main.write_text(
            (f"user {getpass.getuser()}\n" if os.getuid() == 0 else "") + f"include_dir {tmp_path}/conf.d\n"
        )
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.log = open(tmp_path / "mosquitto.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([binary, "-c", str(main)], stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._listens() or self.proc.poll() is not None, what=f"mosquitto on port {port}")
        assert self.proc.poll() is None, (tmp_path / "mosquitto.log").read_text()

    def _listens(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def reload(self):
        self.proc.send_signal(1)  # SIGHUP, as the role's "Reload mosquitto" handler does through systemd

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()

    def auth(self, user):
        if user is None:
            return []
        password = self.password if user == DEVICE else ADMIN["password"] if user == "admin" else user[1]
        return ["-u", user if isinstance(user, str) else user[0], "-P", password]

    def pub(self, user, topic: str, message: str = "hi") -> subprocess.CompletedProcess:
        argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), *self.auth(user), "-t", topic, "-m", message]
        return subprocess.run([*argv, "-q", "1"], capture_output=True, text=True, timeout=20)

    def sub(self, user, topic: str, publish=None, timeout: int = 3) -> subprocess.CompletedProcess:
        """Subscribe, then (once subscribed) let `publish()` send; what arrived within `timeout` s."""
        argv = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), *self.auth(user), "-t", topic]
        proc = subprocess.Popen(
            [*argv, "-q", "1", "-C", "1", "-W", str(timeout), "-v"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if publish:
            # mosquitto_sub has no "subscribed" signal: publish a few times while it listens
            for _ in range(5):
                if proc.poll() is not None:
                    break
                publish()
                try:
                    proc.wait(0.3)
                except subprocess.TimeoutExpired:
                    pass
        out, err = proc.communicate(timeout=timeout + 10)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("broker")
    port = free_port()
    result = run_playbook(tmp, broker_play(tmp, {"pixie_common_mqtt_port": port}))
    assert result.rc == 0, result
    broker = Broker(tmp, port)
    yield broker
    broker.stop()


def test_the_rendered_files(broker):
    tmp = broker.tmp_path
    conf = (tmp / "conf.d" / "pixie.conf").read_text().splitlines()
    assert {"allow_anonymous false", "per_listener_settings false", "persistence false", "log_dest none"} <= set(conf)
    assert f"listener {broker.port} 127.0.0.1" in conf
    assert [line for line in conf if line.startswith("listener")] == [f"listener {broker.port} 127.0.0.1"]
    acl = [line for line in (tmp / "pixie.acl").read_text().splitlines() if line and not line.startswith("#")]
    assert acl == [
        f"user {DEVICE}",
        f"topic readwrite pixie/{DEVICE}/#",
        f"topic readwrite awtrix_{DEVICE}/#",
        "topic read pixie/group/displays/#",
        "topic read pixie/group/hall/#",
        f"topic write homeassistant/+/{DEVICE}/#",
        "topic read homeassistant/status",
        "topic read home/#",
        "topic read homeassistant/sensor/+/state",
        "user admin",
        "topic readwrite pixie/#",
        "topic read homeassistant/#",
        "user sensors",
        "topic write #",
    ]
    lines = (tmp / "pixie.passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == [DEVICE, "admin", "sensors"]
    assert all(line.split(":", 1)[1].startswith("$7$101$") for line in lines)
    assert broker.password not in (tmp / "pixie.passwd").read_text()
    for name in ("pixie.passwd", "pixie.acl"):
        assert (tmp / name).stat().st_mode & 0o777 == 0o600, name  # mosquitto 2.0.16+ warns about more
    assert "Warning: File" not in (tmp / "mosquitto.log").read_text()  # owner, group and mode as mosquitto wants


def test_anonymous_clients_and_wrong_passwords_are_refused(broker):
    for user in (None, (DEVICE, "not-the-password")):
        proc = broker.pub(user, f"pixie/{DEVICE}/notify")
        assert proc.returncode != 0, proc
        assert "not authorised" in (proc.stderr + proc.stdout).lower(), proc


def test_the_device_uses_its_own_topics(broker):
    got = broker.sub(DEVICE, f"pixie/{DEVICE}/#", lambda: broker.pub("admin", f"pixie/{DEVICE}/notify", "to me"))
    assert got.stdout.strip() == f"pixie/{DEVICE}/notify to me", got
    # and it publishes there (its state, job events), which others read
    got = broker.sub("admin", f"pixie/{DEVICE}/state", lambda: broker.pub(DEVICE, f"pixie/{DEVICE}/state", "{}"))
    assert got.stdout.strip() == f"pixie/{DEVICE}/state {{}}", got


def test_the_device_reads_and_writes_its_awtrix_topics(broker):
    topic = f"awtrix_{DEVICE}/notify"
    got = broker.sub(DEVICE, f"awtrix_{DEVICE}/#", lambda: broker.pub(DEVICE, topic, "hi"))
    assert got.stdout.strip() == f"{topic} hi", got


def test_the_device_reads_its_groups_commands(broker):
    got = broker.sub(DEVICE, "pixie/group/hall/#", lambda: broker.pub("admin", "pixie/group/hall/notify", "all"))
    assert got.stdout.strip() == "pixie/group/hall/notify all", got


def test_the_device_reads_nothing_of_another_device_or_group(broker):
    for topic in ("pixie/pixie-2/notify", "pixie/group/kitchen/notify"):
        got = broker.sub(DEVICE, topic, lambda topic=topic: broker.pub("admin", topic, "not for you"))
        assert got.stdout == "" and "Timed out" in got.stderr, got  # connected, subscribed, nothing came


def test_the_device_publishes_nothing_for_another_device(broker):
    # mosquitto drops a publish the ACL denies without telling the client (MQTT 3.1.1): nobody gets it
    got = broker.sub("admin", "pixie/pixie-2/#", lambda: broker.pub(DEVICE, "pixie/pixie-2/notify", "spoofed"))
    assert got.stdout == "" and "Timed out" in got.stderr, got  # connected, subscribed, nothing came


def test_the_device_publishes_home_assistant_discovery_and_reads_its_status(broker):
    topic = f"homeassistant/light/{DEVICE}/panel/config"
    got = broker.sub("admin", "homeassistant/#", lambda: broker.pub(DEVICE, topic, "{}"))
    assert got.stdout.strip() == f"{topic} {{}}", got
    got = broker.sub("admin", "homeassistant/#", lambda: broker.pub(DEVICE, "homeassistant/light/pixie-2/x/config"))
    assert got.stdout == "" and "Timed out" in got.stderr, got  # connected, subscribed, nothing came


def test_password_file_is_written_once_and_again_for_a_new_password(broker, tmp_path):
    tmp = broker.tmp_path
    before = (tmp / "pixie.passwd").read_text()
    again = run_playbook(tmp, broker_play(tmp, {"pixie_common_mqtt_port": broker.port}))
    assert again.rc == 0, again
    assert again.changed == 0, again
    assert again.result(PASSWORD_TASK).get("skipped"), again
    assert (tmp / "pixie.passwd").read_text() == before

    new = "a-new-mqtt-password-42"
    changed = run_playbook(
        tmp, broker_play(tmp, {"pixie_common_mqtt_port": broker.port, "pixie_common_mqtt_password": new})
    )
    assert changed.rc == 0, changed
    assert changed.changed_tasks() == [PASSWORD_TASK], changed
    after = (tmp / "pixie.passwd").read_text().splitlines()
    assert after[1] == before.splitlines()[1], "the line of a user whose password still verifies is kept as it is"
    assert after[0] != before.splitlines()[0]
    broker.reload()
    topic = f"pixie/{DEVICE}/state"
    wait_for(lambda: broker.pub((DEVICE, new), topic).returncode == 0, what="the new password", timeout=10)
    assert broker.pub(DEVICE, topic).returncode != 0, "the old password still works"
    # a third run with the new password: nothing to do again
    third = run_playbook(
        tmp, broker_play(tmp, {"pixie_common_mqtt_port": broker.port, "pixie_common_mqtt_password": new})
    )
    assert third.changed == 0, third
    # put the generated one back for the other tests
    assert run_playbook(tmp, broker_play(tmp, {"pixie_common_mqtt_port": broker.port})).rc == 0
    broker.reload()
    wait_for(lambda: broker.pub(DEVICE, topic).returncode == 0, what="the generated password again", timeout=10)


def test_the_password_check_changes_nothing_in_check_mode(broker):
    tmp = broker.tmp_path
    before = (tmp / "pixie.passwd").read_text()
    result = run_playbook(
        tmp,
        broker_play(tmp, {"pixie_common_mqtt_port": broker.port, "pixie_common_mqtt_password": "yet-another-password"}),
        check=True,
    )
    assert result.rc == 0, result
    assert (tmp / "pixie.passwd").read_text() == before


def test_the_device_reads_the_topics_of_its_live_values_and_no_others(broker):
    sensors = (SENSORS["name"], SENSORS["password"])
    for topic in ("home/outside/temperature", "homeassistant/sensor/power/state"):
        got = broker.sub(DEVICE, topic, lambda topic=topic: broker.pub(sensors, topic, "21.5"))
        assert got.stdout.strip() == f"{topic} 21.5", got
    # mosquitto's acl_file grants such a subscription and withholds the messages (hence the bridge's own list)
    for topic in ("garden/temperature", "homeassistant/sensor/power/attributes"):
        got = broker.sub(DEVICE, topic, lambda topic=topic: broker.pub(sensors, topic, "9"))
        assert got.stdout.strip() == "", got


def test_with_tls_the_lan_listener_serves_the_device_certificate_that_pixie_tls_issued(tmp_path):
    """pixie_common_tls_enabled: pixie_tls's controller tasks make the CA and the device's certificate (for
    real), pixie_mqtt's defaults put that certificate on the LAN listener. A client trusting the CA and with a
    user of its own from the inventory (pixie_mqtt_users) gets its message through; a client trusting another
    CA, and a plain MQTT client, are refused."""
    require("openssl")
    shared = {"pixie_common_tls_enabled": True, "pixie_common_credentials_dir": str(tmp_path / "credentials")}
    issue_tls(tmp_path)
    port, lan = free_port(), free_port()
    files = {
        "__pixie_mqtt_tls_certfile": str(tmp_path / "pixie.crt"),
        "__pixie_mqtt_tls_keyfile": str(tmp_path / "pixie.key"),
    }
    overrides = {
        **shared,
        **files,
        "pixie_common_mqtt_port": port,
        "pixie_mqtt_lan_listener": True,
        "pixie_mqtt_lan_port": lan,
    }
    result = run_playbook(tmp_path, broker_play(tmp_path, overrides))
    assert result.rc == 0, result
    assert (tmp_path / "pixie.crt").read_text() == (tmp_path / "credentials" / "tls" / "cert.pem").read_text()
    assert f"listener {lan}\ncertfile {tmp_path / 'pixie.crt'}" in (tmp_path / "conf.d" / "pixie.conf").read_text()
    other = tmp_path / "other-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"]
        + ["-subj", "/CN=Another CA", "-keyout", str(tmp_path / "other-ca.key"), "-out", str(other)],
        check=True,
        capture_output=True,
    )
    broker = Broker(tmp_path, port)
    try:

        def lan_pub(*tls: str) -> subprocess.CompletedProcess:
            argv = ["mosquitto_pub", "-h", "localhost", "-p", str(lan), "-u", SENSORS["name"]]
            argv += ["-P", SENSORS["password"], "-t", "pixie/lan", "-m", "over tls", "-q", "1", *tls]
            return subprocess.run(argv, capture_output=True, text=True, timeout=20)

        trusted = str(tmp_path / "pixie-ca" / "ca.pem")  # pixie_common_tls_ca_dir: beside the credentials folder
        got = broker.sub("admin", "pixie/lan", lambda: lan_pub("--cafile", trusted))
        assert got.stdout.strip() == "pixie/lan over tls", (got, (tmp_path / "mosquitto.log").read_text())
        refused = lan_pub("--cafile", str(other))
        assert refused.returncode != 0 and "TLS error" in refused.stderr, refused
        plain = lan_pub()
        assert plain.returncode != 0, plain
    finally:
        broker.stop()
