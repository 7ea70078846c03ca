#!/usr/bin/env python3
"""Who writes to the root disk: run in the VM over one window.

    diskwrites.py WINDOW_S DISK        (DISK as /proc/diskstats names it: vda)

Prints JSON: sectors written to DISK over the window (after a sync at both
ends), the bytes each command caused to be written (/proc/PID/io
write_bytes, summed by comm; jbd2 and the flusher threads show as the ext4
journal and writeback), and the journal lines per unit, since each line
logged is a write to /var/log/journal."""

import collections
import json
import os
import subprocess
import sys
import time


def sectors(disk: str) -> int:
    with open("/proc/diskstats") as f:
        for line in f:
            fields = line.split()
            if fields[2] == disk:
                return int(fields[9])
    raise SystemExit(f"no disk {disk} in /proc/diskstats")


def writers() -> dict[str, int]:
    out: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/io") as f:
                io = dict(line.split(": ") for line in f.read().splitlines())
        except OSError:  # gone meanwhile
            continue
        out[f"{pid}:{comm}"] = int(io["write_bytes"])
    return out


def main() -> None:
    window, disk = float(sys.argv[1]), sys.argv[2]
    os.sync()
    start, s0, w0 = time.time(), sectors(disk), writers()
    time.sleep(window)
    os.sync()
    s1, w1 = sectors(disk), writers()
    by_comm: collections.Counter[str] = collections.Counter()
    for key, after in w1.items():
        by_comm[key.split(":", 1)[1]] += after - w0.get(key, 0)
    log = subprocess.run(
        ["journalctl", "-q", "-o", "json", f"--since=@{int(start)}", "--output-fields=_SYSTEMD_UNIT,SYSLOG_IDENTIFIER"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    lines = collections.Counter(
        (entry.get("_SYSTEMD_UNIT") or entry.get("SYSLOG_IDENTIFIER") or "?") for entry in map(json.loads, log)
    )
    print(
        json.dumps(
            {
                "sectors": s1 - s0,
                "writers_bytes": dict(w for w in by_comm.most_common(8) if w[1] > 0),
                "journal_lines": dict(lines.most_common(8)),
            }
        )
    )


main()
