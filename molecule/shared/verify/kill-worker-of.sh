#!/bin/sh
# kill-worker-of.sh JOB_ID WORKER_UNIT...: start the (stopped) workers, and as
# soon as one of them has started the job, SIGKILL that worker's unit
# (rqworker@N, from the worker name <host>.wN.<suffix> that pixie-worker gives
# it); print N.  Runs in the VM, and the job waits for it with the workers
# stopped: no SSH round trip sits between the job's start and the watch, so a
# fast render cannot end before the kill.  Needs REDISCLI_AUTH.
set -eu
job=rq:job:$1
shift
systemctl start "$@"
for _ in $(seq 600); do
    status=$(redis-cli --raw HGET "$job" status)
    case $status in
    started)
        n=$(redis-cli --raw HGET "$job" worker_name | sed -n 's/.*\.w\([0-9]*\)\..*/\1/p')
        systemctl kill --signal=KILL "rqworker@$n"
        echo "$n"
        exit 0
        ;;
    finished | failed)
        echo "the job ended ($status) before its worker could be killed" >&2
        exit 1
        ;;
    esac
    sleep 0.1
done
echo "no worker started the job within a minute" >&2
exit 1
