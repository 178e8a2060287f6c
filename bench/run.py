"""Decision API throughput: `make bench`.

Starts the console under gunicorn (DEBUG off) against a dedicated PostgreSQL database,
drives POST /api/v1/decisions with concurrent keep-alive clients for a fixed time, and
prints decisions per second with p50/p99 latency. In the same run, on the same database,
pgbench measures plain single-row INSERT commits with the same number of clients, and the
ratio of the two says how close the decision path comes to the cost of one durable write.

Usage: .venv/bin/python bench/run.py [--duration 20] [--clients 8] [--workers 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DB = "agc_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
RESULTS = ROOT / "bench" / "results"


def app_env() -> dict[str, str]:
    """Production-like settings: DEBUG off, fresh random keys (never stored)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        AUDIT_SIGNING_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="600",
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / "agc-bench-static"),
        STATIC_MANIFEST="1",
        # As in production: e-mail and webhooks are queued on Redis, not sent inline.
        CELERY_BROKER_URL="redis://127.0.0.1:6379/15",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def run(cmd: list[str], env: dict[str, str] | None = None, **kwargs) -> str:
    result = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, **kwargs
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare_database(env: dict[str, str]) -> str:
    """A fresh database with the demo people, policy and runtimes (no history); returns
    the token of the cowork-sales runtime."""
    run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB])
    run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB])
    run([PYTHON, "manage.py", "migrate", "--noinput"], env=env)
    run([PYTHON, "manage.py", "collectstatic", "--noinput"], env=env)
    with tempfile.TemporaryDirectory() as directory:
        tokens = Path(directory) / "tokens"
        run(
            [
                PYTHON,
                "manage.py",
                "seed_demo",
                "--days",
                "0",
                "--quiet",
                "--token-file",
                str(tokens),
            ],
            env=env,
        )
        lines = dict(line.split("=", 1) for line in tokens.read_text().split())
    return lines["cowork-sales"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int):
    cmd = [
        str(Path(PYTHON).with_name("gunicorn")),
        "governance.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("gunicorn did not answer /healthz within 30 s")


def proposal(n: int) -> dict:
    """A realistic mix: 80 % allow-listed reads, 10 % pending sends, 10 % denials."""
    base = {
        "request_id": uuid.uuid4().hex,
        "on_behalf_of": "sam@corp.example",
        "model": "claude-sonnet-4-5",
        "plugin": "sales-outreach@2.1.0",
    }
    kind = n % 10
    if kind < 8:
        return base | {
            "profile": "account-summary",
            "action": "crm.read_record",
            "data_sources": [f"crm:account/{1000 + n % 400}"],
            "params": {"account_id": 1000 + n % 400},
        }
    if kind == 8:
        return base | {
            "profile": "sales-followup",
            "action": "mail.send_external",
            "connector": "mail",
            "data_sources": [f"mail:outbox/followup-{n}", f"crm:contact/{n % 300}"],
            "params": {"to": f"buyer{n}@customer.example", "subject": "Follow-up"},
            "rationale": "Follow-up after the call.",
        }
    return base | {
        "profile": "account-summary",
        "action": "crm.read_record",
        "data_sources": [f"crm:opportunity/{5000 + n % 500}"],
    }


class Client(threading.Thread):
    """One agent: a keep-alive connection sending decisions back to back."""

    def __init__(self, port: int, token: str, start_at: float, stop_at: float, seed: int):
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.start_at, self.stop_at, self.seed = start_at, stop_at, seed
        self.latencies: list[float] = []
        self.errors = 0
        self.outcomes: dict[str, int] = {}

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        n = self.seed
        while (now := time.monotonic()) < self.stop_at:
            body = json.dumps(proposal(n))
            n += 7
            try:
                connection.request("POST", "/api/v1/decisions", body, headers)
                response = connection.getresponse()
                payload = response.read()
            except OSError:
                self.errors += 1
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            elapsed = time.monotonic() - now
            if now < self.start_at:
                continue  # warm-up
            if response.status not in (200, 201):
                self.errors += 1
                continue
            outcome = json.loads(payload).get("outcome", "?")
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            self.latencies.append(elapsed)


def drive(port: int, token: str, clients: int, warmup: float, duration: float) -> dict:
    start_at = time.monotonic() + warmup
    stop_at = start_at + duration
    threads = [Client(port, token, start_at, stop_at, seed=i) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(x for t in threads for x in t.latencies)
    outcomes: dict[str, int] = {}
    for thread in threads:
        for key, value in thread.outcomes.items():
            outcomes[key] = outcomes.get(key, 0) + value
    if not latencies:
        sys.exit("no successful decision was measured")
    return {
        "decisions": len(latencies),
        "decisions_per_second": len(latencies) / duration,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "errors": sum(t.errors for t in threads),
        "outcomes": outcomes,
    }


def pgbench_inserts(clients: int, duration: float) -> float:
    """Plain single-row INSERT commits per second on the same server and database."""
    run(
        [
            "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-q", "-c",
            "DROP TABLE IF EXISTS bench_insert; CREATE TABLE bench_insert (id bigserial "
            "PRIMARY KEY, payload text NOT NULL, created_at timestamptz DEFAULT now())",
        ]
    )  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("INSERT INTO bench_insert (payload) VALUES ('decision');\n")
    try:
        output = run(
            [
                "pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n",
                "-c", str(clients), "-j", str(min(clients, 2)),
                "-T", str(int(duration)), "-f", script.name, DB,
            ]
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if not match:
        sys.exit(f"could not read pgbench's output:\n{output}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before measuring")
    parser.add_argument("--clients", type=int, default=8, help="concurrent agents")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--skip-pgbench", action="store_true")
    args = parser.parse_args()

    env = app_env()
    print(f"Preparing {DB} (migrate, demo policy, a runtime)…", flush=True)
    token = prepare_database(env)
    port = free_port()
    server = start_gunicorn(env, port, args.workers, args.threads)
    try:
        print(
            f"Driving POST /api/v1/decisions: {args.clients} clients, "
            f"{args.warmup:g} s warm-up + {args.duration:g} s…",
            flush=True,
        )
        decisions = drive(port, token, args.clients, args.warmup, args.duration)
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["redis-cli", "-n", "15", "FLUSHDB"], capture_output=True, check=False)
    inserts = None if args.skip_pgbench else pgbench_inserts(args.clients, args.duration)
    report(args, decisions, inserts)


def report(args, decisions: dict, inserts: float | None) -> None:
    cores = os.cpu_count()
    lines = [
        "",
        "Decision API benchmark (PostgreSQL, gunicorn, DEBUG off)",
        f"  machine: {cores} cores; load generator and server share them",
        f"  gunicorn: {args.workers} workers x {args.threads} thread(s); {args.clients} clients",
        f"  decisions/s      {decisions['decisions_per_second']:10.1f}"
        f"   ({decisions['decisions']} in {args.duration:g} s; outcomes {decisions['outcomes']})",
        f"  latency p50      {decisions['p50_ms']:10.2f} ms",
        f"  latency p99      {decisions['p99_ms']:10.2f} ms",
        f"  errors           {decisions['errors']:10d}",
    ]
    result = {"args": vars(args), "cores": cores, "decisions": decisions}
    if inserts is not None:
        ratio = decisions["decisions_per_second"] / inserts
        lines += [
            f"  pgbench INSERT/s {inserts:10.1f}   (single-row INSERT commits, same clients)",
            f"  ratio            {ratio:10.3f}   (decisions/s ÷ INSERT commits/s)",
        ]
        result |= {"pgbench_inserts_per_second": inserts, "ratio": ratio}
    print("\n".join(lines))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "decisions.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
