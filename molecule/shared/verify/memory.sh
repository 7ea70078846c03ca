#!/bin/sh
# memory.sh UNIT...: resident memory of every process of these units (their
# cgroups), as "unit rss_kib pss_kib" lines and a "total" line.
set -eu
total_rss=0 total_pss=0
for unit in "$@"; do
    rss=0 pss=0
    for pid in $(cat "/sys/fs/cgroup$(systemctl show -P ControlGroup "$unit")/cgroup.procs"); do
        # a process may end between the listing and the reading: skip it
        r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
        rss=$((rss + ${r:-0})) pss=$((pss + ${p:-0}))
    done
    echo "$unit $rss $pss"
    total_rss=$((total_rss + rss)) total_pss=$((total_pss + pss))
done
echo "total $total_rss $total_pss"
