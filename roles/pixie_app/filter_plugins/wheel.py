"""``pixie_wheel_digest``: a hash of a wheel's *content* (member names and bytes).

Two builds of the same source give wheels whose zip timestamps differ, so the
file checksum changes on every build. This digest only changes when a file in
the wheel changes, which is what decides whether the device reinstalls.
The filter runs on the controller, where the wheel is built.
"""

from __future__ import annotations

import hashlib
import zipfile

from ansible.errors import AnsibleFilterError


def pixie_wheel_digest(path):
    """Return the sha256 over sorted (name, content sha256) of the wheel's members."""
    try:
        with zipfile.ZipFile(str(path)) as wheel:
            digest = hashlib.sha256()
            for name in sorted(wheel.namelist()):
                if name.endswith("/"):
                    continue
                digest.update(name.encode("utf-8") + b"\0")
                digest.update(hashlib.sha256(wheel.read(name)).hexdigest().encode("ascii") + b"\n")
            return digest.hexdigest()
    except (OSError, zipfile.BadZipFile) as exc:
        raise AnsibleFilterError(f"cannot read wheel {path}: {exc}") from exc


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self):
        return {"pixie_wheel_digest": pixie_wheel_digest}
