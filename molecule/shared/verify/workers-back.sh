#!/bin/sh
# workers-back.sh N SINCE PORT: wait until N render workers have said they
# are alive (pixie:workers in the volatile Redis on PORT, the time of each
# one's last beat) at SINCE (epoch seconds) or later, at most 60 s from now;
# print how long it took.  Needs REDISCLI_AUTH.  A worker beats right after
# reading the durable Redis, so a beat after a restart of it proves the
# worker reached the new one; entries of dead workers are older.
set -eu
want=$1 since=$2 port=$3 start=$(date +%s)
while :; do
    fresh=$(redis-cli -p "$port" --raw ZCOUNT pixie:workers "$since" +inf 2>/dev/null || echo 0)
    elapsed=$(($(date +%s) - start))
    if [ "$fresh" -ge "$want" ]; then
        echo "$elapsed"
        exit 0
    fi
    if [ "$elapsed" -gt 60 ]; then
        echo "only $fresh of $want workers back after $elapsed s" >&2
        exit 1
    fi
    sleep 1
done
