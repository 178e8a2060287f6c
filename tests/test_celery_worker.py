"""A real Celery worker (a separate process) on the Redis that .ci/run starts, delivering a
webhook end to end: a person approves through the real services, the webhook task goes to
the broker, the worker posts it, signed, to a local HTTP server and records the delivery.

Runs against its own SQLite file (the worker cannot see the test database's transaction),
on a queue of its own (CELERY_TASK_DEFAULT_QUEUE), so that parallel runs never share work."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from approvals.tests.test_webhooks import Receiver
from approvals.webhooks import webhook_signature_verify

ROOT = Path(__file__).resolve().parents[1]
REDIS = ("127.0.0.1", 6379)


def redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not redis_reachable(), reason="needs Redis on 127.0.0.1:6379 (.ci/run starts one)"
)


def forget_queue(queue: str) -> None:
    """Leave nothing of this test's queue on the shared Redis."""
    import redis

    client = redis.Redis(*REDIS, db=0)
    for key in [queue, *client.scan_iter(f"_kombu.binding*.{queue}")]:
        client.delete(key)


def run(args, env, **kwargs):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        **kwargs,
    )


def test_a_real_worker_delivers_a_webhook_end_to_end(tmp_path):
    receiver = Receiver([])
    database = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": f"agc-test-{uuid.uuid4().hex}",
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "PYTHONPATH": str(ROOT),
    }
    worker = None
    try:
        migrated = run(["manage.py", "migrate", "--noinput"], env)
        assert migrated.returncode == 0, migrated.stderr
        made = run([str(Path(__file__).with_name("celery_worker_scenario.py")), receiver.url], env)
        assert made.returncode == 0, made.stderr
        scenario = json.loads(made.stdout.strip().splitlines()[-1])
        assert scenario["status"] == "pending"  # queued on the broker, not sent inline
        assert receiver.requests == []

        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool=solo",
             "--queues", env["CELERY_TASK_DEFAULT_QUEUE"], "--without-heartbeat",
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            with sqlite3.connect(database) as db:
                status = db.execute(
                    "SELECT status, attempts FROM approvals_webhookdelivery WHERE id = ?",
                    [scenario["delivery"]],
                ).fetchone()
            if status and status[0] != "pending":
                break
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.5)
        assert status == ("delivered", 1)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        receiver.close()
        forget_queue(env["CELERY_TASK_DEFAULT_QUEUE"])
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert webhook_signature_verify(
        scenario["secret"],
        int(request["headers"]["X-Signature-Timestamp"]),
        request["body"],
        request["headers"]["X-Signature"],
    )
    payload = json.loads(request["body"])
    assert payload["event"] == "decision.resolved"
    assert payload["decision"]["status"] == "approved"
