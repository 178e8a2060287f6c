"""Decision API throughput against PostgreSQL: `make bench`.

Recreates the database agc_bench, loads the demo policy and a dedicated runtime, starts the
console under gunicorn (DEBUG off, fresh random keys), drives POST /api/v1/decisions with
concurrent HTTP/1.1 clients for a fixed time and prints decisions per second with p50 and
p99 latency. In the same run, on the same database, pgbench measures plain single-row INSERT
commits with the same number of clients for the same time, and the ratio of the two is
printed. Figures only: nothing here asserts a timing. See bench/README.md.

Usage: .venv/bin/python bench/run.py [--duration 20] [--clients 8] [--warmup 3]
                                     [--skip-pgbench] [--workers 2] [--threads 1] ...
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decisions import ClientResult, drive, percentile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# A database of this run's own (never one another job might share); only it is dropped.
DB = f"agc_bench_{os.getpid()}"
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
RESULTS = ROOT / "bench" / "results" / "decisions.json"
RUNTIME = "bench-agent"
PROFILES = "account-summary,sales-followup"
# Percent of one core used by unrelated processes above which the run is flagged as skewed.
OTHER_CPU_WARNING = 15
# pgbench's one-table schema, in the benchmark database (dropped with it on the next run).
PGBENCH_SETUP = (
    "DROP SCHEMA IF EXISTS pgbench_single CASCADE; CREATE SCHEMA pgbench_single; "
    "CREATE TABLE pgbench_single.event (id bigserial PRIMARY KEY, payload text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)
# The floor view's table (bench/floor_urls.py), in the benchmark database.
FLOOR_TABLE = (
    "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, request_id text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)
PGBENCH_SCRIPT = "INSERT INTO pgbench_single.event (payload) VALUES ('decision');\n"


# -- environment and database --------------------------------------------------------------


def random_key(length: int = 50) -> str:
    """A fresh random key for this run only (letters, digits, - and _: nothing that
    django-environ or a shell would interpret)."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def app_env(static_root: Path, cache: str = "local") -> dict[str, str]:
    """Production-like settings: DEBUG off, keys generated now and never written down."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DATABASE_URL=DATABASE_URL,
        DEBUG="0",
        SECRET_KEY=random_key(),
        AUDIT_SIGNING_KEY=random_key(),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="600",
        STATIC_ROOT=str(static_root),
        STATIC_MANIFEST="1",
        SITE_URL="http://127.0.0.1",
        # Approver e-mails are rendered but go nowhere (never to the terminal or a server).
        EMAIL_URL="dummymail://",
        # Every decision is counted against the runtime's rate limit, as in production, with
        # a limit the load never reaches: the run measures the limiter's cost, not refusals.
        RATE_LIMIT_DECISIONS="1000000000/minute",
        CACHE_URL="redis://127.0.0.1:6379/1" if cache == "redis" else "locmemcache://bench",
    )
    # No broker: nothing on the decision path talks to one (e-mails go to the outbox).
    env.update(CELERY_BROKER_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    return env


def run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    """Run a command to completion; stop the benchmark with its output if it fails."""
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(
            f"$ {' '.join(cmd)}\nfailed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def manage(env: dict[str, str], *args: str) -> str:
    return run([PYTHON, "manage.py", *args], env=env)


def psql(sql: str) -> str:
    return run(["psql", *PG, "-d", DB, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])


def prepare_database(env: dict[str, str]) -> str:
    """Drop and recreate agc_bench, migrate, collect static files, load the demo people and
    policy (no history), and register the benchmark's own runtime. Returns its token."""
    run(["dropdb", *PG, "--if-exists", "--force", DB])
    run(["createdb", *PG, DB])
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    with tempfile.TemporaryDirectory(prefix="agc-bench-") as directory:
        # seed_demo's own runtimes' tokens go to a throw-away file, not the project's.
        token_file = Path(directory) / "demo-tokens"
        manage(env, "seed_demo", "--days", "0", "--quiet", "--token-file", str(token_file))
    token = manage(env, "create_runtime", RUNTIME, "--profiles", PROFILES).strip().splitlines()
    if not token or not token[-1].startswith("agc_"):
        sys.exit(f"create_runtime printed no token: {token!r}")
    return token[-1]


def database_counters() -> dict[str, int]:
    """Cumulative commits, rollbacks and inserted rows of the bench's database
    (pg_stat_database), and the server's WAL position in bytes (the whole server's: other
    databases' writes during a phase count too)."""
    row = psql(
        "SELECT xact_commit, xact_rollback, tup_inserted, pg_current_wal_lsn() - '0/0' "
        "FROM pg_stat_database WHERE datname = current_database()"
    )
    commits, rollbacks, inserted, wal = (int(float(x)) for x in row.split("|"))
    return {"commits": commits, "rollbacks": rollbacks, "rows_inserted": inserted, "wal": wal}


# -- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(port: int, workers: int, threads: int, app: str) -> list[str]:
    return [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]


def healthz(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_until_healthy(server: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited ({server.returncode}) before answering /healthz")
        if healthz(port) == 200:
            return
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer /healthz with 200 within {timeout:g} s")


def stop(server: subprocess.Popen) -> None:
    """Graceful stop (SIGTERM lets workers finish), then SIGKILL if it hangs."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- CPU accounting (Linux /proc; skipped elsewhere) -------------------------------------


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, CPU ticks used so far)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


class CpuSampler:
    """CPU used during the measured window by gunicorn (master and workers), PostgreSQL
    (every postgres process, pgbench's runs excluded since it does not run then), this
    load generator (its process and child processes), and the machine as a whole."""

    def __init__(self, gunicorn_pid: int):
        self.gunicorn_pid = gunicorn_pid
        self.samples: dict[str, tuple[dict, tuple[int, int], float]] = {}
        self.available = Path("/proc/stat").exists()

    def __call__(self, edge: str) -> None:
        if self.available:
            self.samples[edge] = (_processes(), _machine_ticks(), time.monotonic())

    def _group(self, processes: dict[int, tuple[str, int, int]]) -> dict[str, int]:
        me = os.getpid()
        groups = {"gunicorn": 0, "postgres": 0, "load generator": 0}
        for pid, (name, ppid, ticks) in processes.items():
            if pid == self.gunicorn_pid or ppid == self.gunicorn_pid:
                groups["gunicorn"] += ticks
            elif name == "postgres" or name.startswith("postgres:"):
                groups["postgres"] += ticks
            elif pid == me or ppid == me:
                groups["load generator"] += ticks
        return groups

    def report(self) -> dict[str, float] | None:
        """Percent of one core, per group, over the window; 'machine' is the whole box."""
        if "open" not in self.samples or "close" not in self.samples:
            return None
        (first, machine_first, t0), (last, machine_last, t1) = (
            self.samples["open"],
            self.samples["close"],
        )
        hz = os.sysconf("SC_CLK_TCK")
        seconds = t1 - t0
        # Only processes alive at both ends: a process that came or went in between is
        # not a fair difference (none is expected during the window).
        common = first.keys() & last.keys()
        before = self._group({pid: first[pid] for pid in common})
        after = self._group({pid: last[pid] for pid in common})
        usage = {name: 100 * (after[name] - before[name]) / hz / seconds for name in after}
        busy = machine_last[0] - machine_first[0]
        total = machine_last[1] - machine_first[1]
        machine = 100 * (os.cpu_count() or 1) * busy / max(total, 1)
        # Whatever else ran on the machine meanwhile (other work would skew the figures).
        usage["other"] = max(0.0, machine - sum(usage.values()))
        usage["machine busy"] = machine
        return usage


# -- pgbench ---------------------------------------------------------------------------------


def pgbench_inserts(clients: int, duration: float) -> dict:
    """Single-row INSERT commits per second: a one-table schema in the same database, one
    INSERT per transaction (autocommit), the same number of clients, the same duration."""
    psql(PGBENCH_SETUP)
    threads = max(1, min(clients, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="agc-pgbench-") as directory:
        script = Path(directory) / "insert.sql"
        script.write_text(PGBENCH_SCRIPT)
        output = run(
            [
                "pgbench", *PG, "--no-vacuum", "--client", str(clients), "--jobs", str(threads),
                "--time", str(max(1, round(duration))), "--file", str(script), DB,
            ]
        )  # fmt: skip
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    latency = re.search(r"latency average = ([0-9.]+) ms", output)
    if not tps:
        sys.exit(f"could not read pgbench's output:\n{output}")
    return {
        "inserts_per_second": float(tps.group(1)),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "clients": clients,
        "jobs": threads,
        "duration_s": max(1, round(duration)),
    }


# -- the run ---------------------------------------------------------------------------------


def summarise(result: ClientResult, duration: float) -> dict:
    every = sorted(x for values in result.latencies.values() for x in values)
    if not every:
        sys.exit(
            "No request completed inside the measured window. "
            f"Errors: {result.errors} {result.error_samples}"
        )
    return {
        "count": len(every),
        "per_second": round(len(every) / duration, 1),
        "p50_ms": round(percentile(every, 0.50) * 1000, 2),
        "p99_ms": round(percentile(every, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(every) * 1000, 2),
        "errors": result.errors,
        "error_samples": result.error_samples,
        "unexpected_outcomes": result.unexpected,
        "outcomes": dict(sorted(result.outcomes.items())),
        "answers_whole_run": result.sent,
    }


# The phases of one run, in order: the floor before and after the three kinds of decision,
# so that a drift of the machine during the run shows up as two different floors.
PHASES = (
    ("floor", ("floor",)),
    ("allow", ("read",)),
    ("deny", ("out_of_scope",)),
    ("pending", ("send",)),
    ("floor again", ("floor",)),
)


def measure(args, *, app: str, mix: tuple[str, ...], token: str, env: dict) -> dict:
    """Start gunicorn on `app`, drive it with one kind of request, stop it; the figures."""
    port = free_port()
    command = gunicorn_command(port, args.workers, args.threads, app)
    chdir = ROOT / "bench" if app.startswith("floor") else ROOT
    env = {**env, "PYTHONPATH": str(ROOT)} if app.startswith("floor") else env
    counters_before = database_counters()
    server = subprocess.Popen(command, cwd=chdir, env=env)  # noqa: S603
    try:
        wait_until_healthy(server, port)
        sampler = CpuSampler(server.pid)
        result = drive(
            mode=args.loadgen,
            clients=args.clients,
            port=port,
            token=token,
            warmup=args.warmup,
            duration=args.duration,
            mix=mix,
            at_window=sampler,
        )
    finally:
        stop(server)
    # Backends flush their statistics when they exit, i.e. once gunicorn has stopped.
    time.sleep(0.5)
    counters_after = database_counters()
    figures = summarise(result, args.duration)
    answered = max(result.sent, 1)
    figures["per_request"] = {
        key: round((counters_after[key] - counters_before[key]) / answered, 2)
        for key in counters_before
    }
    cpu = sampler.report()
    figures["cpu"] = cpu
    if cpu:
        rate = figures["per_second"]
        figures["cpu_ms"] = {n: round(10 * cpu[n] / rate, 3) for n in ("gunicorn", "postgres")}
    return figures


def count_queries(env: dict, token: str) -> dict:
    """Queries per decision of each kind, counted in-process on the bench's database."""
    output = run([PYTHON, "bench/count_queries.py", token], env=env)
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Decision API throughput under gunicorn against PostgreSQL, for allow, "
        "deny and pending, against a bare floor view under the same gunicorn."
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds per phase (15)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent agents (16)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before measuring (3)")
    parser.add_argument("--pgbench", action="store_true", help="also run pgbench's INSERT")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (2: one per core)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (1: sync workers; more: gthread workers)",
    )
    parser.add_argument(
        "--loadgen",
        choices=["threads", "processes"],
        default="threads",
        help="clients as threads of this process or as one process each (threads)",
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop it after")
    parser.add_argument(
        "--commit-delay",
        type=int,
        default=0,
        metavar="MICROSECONDS",
        help="PostgreSQL group commit for this run's database: commit_delay (µs) with "
        "commit_siblings 1, so concurrent commits share one WAL flush; durability unchanged, "
        "the floor gets it too (0: off, the server's default)",
    )
    parser.add_argument(
        "--cache",
        choices=["local", "redis"],
        default="local",
        help="where the rate-limit counters live: each worker's local memory (the embedded "
        "default) or Redis on 127.0.0.1:6379 as in production (local)",
    )
    args = parser.parse_args()
    # Interrupted or terminated, the `finally` blocks still stop gunicorn and drop the
    # database: SIGTERM becomes SystemExit, and SIGINT works in the background too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.duration <= 0 or args.clients < 1 or args.warmup < 0 or args.workers < 1:
        parser.error("--duration and --clients must be positive, --warmup not negative")
    if not 0 <= args.commit_delay <= 100000:
        parser.error("--commit-delay is in microseconds, from 0 to 100000 (PostgreSQL's range)")

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="agc-bench-static-") as static_root:
        env = app_env(Path(static_root), args.cache)
        print(f"Preparing {DB}: migrate, demo people and policy, runtime {RUNTIME}…", flush=True)
        try:
            token = prepare_database(env)
            psql(FLOOR_TABLE)
            if args.commit_delay:
                # Sessions opened from now on (gunicorn starts later) wait up to this long
                # before flushing the WAL, so that commits arriving meanwhile share the flush.
                psql(f"ALTER DATABASE {DB} SET commit_delay = {args.commit_delay}")
                psql(f"ALTER DATABASE {DB} SET commit_siblings = 1")
            queries = count_queries(env, token)
            phases = {}
            for name, mix in PHASES:
                app = (
                    "floor_wsgi:application" if mix == ("floor",) else "governance.wsgi:application"
                )
                print(f"  {name}: {args.clients} clients, {args.duration:g} s…", flush=True)
                phases[name] = measure(args, app=app, mix=mix, token=token, env=env)
            pgbench = pgbench_inserts(args.clients, args.duration) if args.pgbench else None
        finally:
            if not args.keep_database:
                run(["dropdb", *PG, "--if-exists", "--force", DB])
    report(args=args, cores=cores, phases=phases, queries=queries, pgbench=pgbench)


def report(*, args, cores, phases, queries, pgbench) -> None:
    floor = statistics.fmean([phases["floor"]["per_second"], phases["floor again"]["per_second"]])
    worker_class = "gthread" if args.threads > 1 else "sync"
    lines = [
        "",
        "Decision API benchmark — POST /api/v1/decisions, PostgreSQL, gunicorn, DEBUG off",
        f"  server   gunicorn, {args.workers} {worker_class} worker(s) × {args.threads}"
        f" thread(s), persistent connections; {args.clients} clients ({args.loadgen}),"
        f" {args.warmup:g} s warm-up + {args.duration:g} s per phase;"
        f" rate-limit counters in {args.cache}",
        "  database PostgreSQL, group commit (commit_delay) "
        + (f"{args.commit_delay} µs" if args.commit_delay else "off"),
        "  floor    POST /bench/floor under the same gunicorn, settings and slim middleware:"
        " parse the same JSON, commit one single-row INSERT",
        f"  machine  {cores} cores shared by the load generator, gunicorn and PostgreSQL",
        "",
        f"  {'phase':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'÷ floor':>9}"
        f"{'CPU ms':>9}{'PG ms':>8}{'commits':>9}{'queries':>9}{'WAL kB':>8}{'errors':>8}",
    ]
    kinds = {"allow": "read", "deny": "out_of_scope", "pending": "send"}
    for name, figures in phases.items():
        cpu = figures.get("cpu_ms") or {}
        ratio = figures["per_second"] / floor if name in kinds else None
        query = queries.get(kinds.get(name, ""), "")
        lines.append(
            f"  {name:<12}{figures['per_second']:>9.1f}{figures['p50_ms']:>9.2f}"
            f"{figures['p99_ms']:>9.2f}{(f'{ratio:.2f}' if ratio else '—'):>9}"
            f"{cpu.get('gunicorn', float('nan')):>9.2f}{cpu.get('postgres', float('nan')):>8.2f}"
            f"{figures['per_request']['commits']:>9.2f}{query!s:>9}"
            f"{figures['per_request']['wal'] / 1024:>8.1f}{figures['errors']:>8}"
        )
        if figures["unexpected_outcomes"]:
            lines.append(f"    UNEXPECTED outcomes: {figures['outcomes']} (check the policy)")
        for sample in figures["error_samples"]:
            lines.append(f"    e.g. {sample}")
        other = (figures.get("cpu") or {}).get("other", 0)
        if other > OTHER_CPU_WARNING:
            lines.append(f"    WARNING: other processes used {other:.0f}% CPU: skewed figures")
    lines.append(f"  (a replay of a request_id costs {queries.get('replay')} queries)")
    if pgbench:
        lines.append(
            f"  pgbench single-row INSERT commits: {pgbench['inserts_per_second']:.1f}/s"
            " (C client, no HTTP: the database's own ceiling)"
        )
    ratios = {k: phases[k]["per_second"] / floor for k in kinds}
    result = {
        "benchmark": "POST /api/v1/decisions against a floor view",
        "machine": {"cores": cores, "python": platform.python_version()},
        "settings": vars(args),
        "floor_per_second": floor,
        "phases": phases,
        "queries_per_decision": queries,
        "ratios": ratios,
        "pgbench": pgbench,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    lines += [
        f"  (figures also in {RESULTS.relative_to(ROOT)})",
        "",
        "  ratio decisions ÷ floor: "
        + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items())
        + f"  (targets: allow and deny ≥ 0.50, pending ≥ 0.35; floor {floor:.1f}/s)",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted (gunicorn stopped).")
