"""mosquitto's password file, kept in step with the users' passwords without rewriting it each run.

    python3 mosquitto_passwd.py check|write PATH OWNER GROUP MODE   < {"user": "password", ...}

mosquitto_passwd salts every hash afresh, so a file written on each run would always
differ. Instead, `check` verifies the file's lines against the passwords (read only) and
prints {"stale": [users]}: users with no line or a line that does not verify, and
"(file)" for lines of users no longer wanted or a wrong owner, group or mode. `write`
writes the file again (atomically), keeping every line that still verifies as it is and
hashing the others as mosquitto 2 does: $7$<iterations>$<base64 salt>$<base64 hash>,
PBKDF2-HMAC-SHA512, 101 iterations, a 12-byte salt, a 64-byte hash. The passwords come on
stdin, never in argv.
"""

import base64
import grp
import hashlib
import hmac
import json
import os
import pwd
import sys
import tempfile

ITERATIONS = 101
SALT_BYTES = 12


def verifies(hashed: str, password: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
        return False  # $6$ (mosquitto 1.x, plain SHA-512) and anything else: hash again
    try:
        iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except ValueError:
        return False
    mine = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(digest))
    return hmac.compare_digest(mine, digest)


def hashed(password: str) -> str:
    salt = os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    b64 = base64.b64encode
    return f"$7${ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def current(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    except FileNotFoundError:
        return {}
    return dict(line.split(":", 1) for line in lines if ":" in line)


def main() -> int:
    action, path, owner, group, mode = sys.argv[1:6]
    wanted: dict[str, str] = json.load(sys.stdin)
    uid, gid, mode = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid, int(mode, 8)
    lines = current(path)
    stale = [user for user, password in wanted.items() if not verifies(lines.get(user, ""), password)]
    try:
        st = os.stat(path)
        attrs_ok = (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (uid, gid, mode)
    except FileNotFoundError:
        attrs_ok = False
    if set(lines) - set(wanted) or list(lines) != list(wanted) or not attrs_ok:
        stale.append("(file)")
    if action == "write" and stale:
        text = "".join(
            f"{user}:{lines[user] if user not in stale else hashed(password)}\n" for user, password in wanted.items()
        )
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pixie-passwd-")
        try:
            os.fchmod(fd, mode)
            os.fchown(fd, uid, gid)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    json.dump({"stale": stale}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
