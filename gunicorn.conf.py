"""gunicorn reads this file from its working directory: only the hooks the console needs.

With PROMETHEUS_MULTIPROC_DIR set (several workers, see governance/metrics.py), the
directory's files of a previous run are removed before the workers start, and a worker that
exits is marked dead so that its gauges stop counting (its counters are kept)."""

import os
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
