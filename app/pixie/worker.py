"""`pixie-worker [INSTANCE] [rq worker options]`: a stock `rq worker` with pixie's settings.

The Redis URL (with its password) travels in the environment as
RQ_REDIS_URL, which rq reads for `--url`: it never shows in `ps`.
"""

import os
import secrets
import socket
import sys

from . import config as configuration

QUEUES = ("high", "default", "low")


def command(config: configuration.Config, instance: str, extra: list[str]) -> list[str]:
    # A random suffix: a fixed name is refused for minutes after a power cut.
    name = f"{socket.gethostname()}.w{instance}.{secrets.token_hex(3)}"
    w = config.worker
    return [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "--serializer",
        "json",
        "--name",
        name,
        "--worker-class",
        w.worker_class,
        "--max-jobs",
        str(w.max_jobs),
        "--worker-ttl",
        str(w.ttl_s),
        "--maintenance-interval",
        str(w.maintenance_interval_s),
        "--job-monitoring-interval",
        str(w.job_monitoring_interval_s),
        *extra,
        *QUEUES,
    ]


def main() -> None:
    args = sys.argv[1:]
    instance = args.pop(0) if args and not args[0].startswith("-") else "1"
    config = configuration.load()
    os.environ.setdefault("RQ_REDIS_URL", config.redis.url)
    argv = command(config, instance, args)
    print("exec", " ".join(argv[1:]), flush=True)
    os.execv(argv[0], argv)  # noqa: S606 - become the rq worker, so systemd supervises it directly
