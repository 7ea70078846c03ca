#!/bin/sh
# workers-back.sh N SINCE: wait until N rq workers have sent a heartbeat
# after SINCE (UTC, %Y-%m-%dT%H:%M:%S, rq's own format), at most 30 s from
# now; print how long it took.  Needs REDISCLI_AUTH.  Stale entries of dead
# workers do not count: only a heartbeat proves a worker is back.
set -eu
want=$1 since=$2 start=$(date +%s)
while :; do
    fresh=0
    for w in $(redis-cli --raw SMEMBERS rq:workers 2>/dev/null); do
        beat=$(redis-cli --raw HGET "$w" last_heartbeat)
        [ "$beat" \> "$since" ] && fresh=$((fresh + 1))
    done
    elapsed=$(($(date +%s) - start))
    if [ "$fresh" -ge "$want" ]; then
        echo "$elapsed"
        exit 0
    fi
    if [ "$elapsed" -gt 30 ]; then
        echo "only $fresh of $want workers back after $elapsed s" >&2
        exit 1
    fi
    sleep 1
done
