"""pixie_tls's controller side, for REAL: its controller.yml run by ansible-playbook on localhost (the
role's defaults, community.crypto) into a credentials folder of the test's own. The CA it makes
signs the device's certificate (checked by `openssl verify`, not by the role's code), for the names
the device is reached by; a second run changes nothing; a run inside pixie_tls_renew_days, or with a
new name, issues a new certificate from the same CA."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from roles_support import issue_tls

from testsupport.tools import require


@pytest.fixture(autouse=True)
def openssl():
    require("openssl")


def leaf(tmp_path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((tmp_path / "credentials" / "tls" / "leaf.pem").read_bytes())


def names(cert: x509.Certificate) -> set[str]:
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(sans.get_values_for_type(x509.DNSName)) | {str(a) for a in sans.get_values_for_type(x509.IPAddress)}


def verify(tmp_path: Path) -> subprocess.CompletedProcess:
    tls, ca = tmp_path / "credentials" / "tls", tmp_path / "pixie-ca"  # the CA beside the credentials
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca / "ca.pem"), str(tls / "leaf.pem")], capture_output=True, text=True
    )


def test_the_ca_signs_a_certificate_for_the_device_and_loopback_and_a_second_run_changes_nothing(tmp_path):
    first = issue_tls(tmp_path)
    assert first.changed > 0
    checked = verify(tmp_path)
    assert checked.returncode == 0, checked.stderr
    cert = leaf(tmp_path)
    # the inventory name (localhost here) and the loopback address the device's own clients use
    assert {"localhost", "127.0.0.1"} <= names(cert)
    assert all(ipaddress.ip_address(a) for a in names(cert) if a[0].isdigit())
    issued = (tmp_path / "credentials" / "tls" / "cert.pem").read_text()
    assert issued.count("BEGIN CERTIFICATE") == 2  # the device's, then the CA's: the chain a client needs
    again = issue_tls(tmp_path)
    assert again.changed == 0, again.changed_tasks()
    assert leaf(tmp_path).serial_number == cert.serial_number


def test_a_certificate_inside_the_renewal_window_is_issued_again_by_the_same_ca(tmp_path):
    issue_tls(tmp_path)
    ca = (tmp_path / "pixie-ca" / "ca.pem").read_bytes()
    before = leaf(tmp_path)
    # a 365-day certificate is inside a 400-day window: as if its last month had come
    renewed = issue_tls(tmp_path, pixie_tls_renew_days=400)
    assert renewed.changed > 0
    after = leaf(tmp_path)
    assert after.serial_number != before.serial_number and after.not_valid_after_utc >= before.not_valid_after_utc
    assert (tmp_path / "pixie-ca" / "ca.pem").read_bytes() == ca  # clients keep trusting it
    assert verify(tmp_path).returncode == 0
    assert issue_tls(tmp_path).changed == 0  # outside the default window again: left alone


def test_a_new_name_for_the_device_issues_a_certificate_that_carries_it(tmp_path):
    issue_tls(tmp_path)
    before = leaf(tmp_path)
    issue_tls(tmp_path, pixie_tls_extra_names=["Pixie-Hall.lan", "192.168.1.50"])
    after = leaf(tmp_path)
    assert after.serial_number != before.serial_number
    assert {"pixie-hall.lan", "192.168.1.50", "localhost", "127.0.0.1"} <= names(after)
    assert verify(tmp_path).returncode == 0
