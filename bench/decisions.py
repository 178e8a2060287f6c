"""The load generator of `make bench`: agents asking POST /api/v1/decisions, stdlib only.

Each client is one agent with one HTTP/1.1 connection (http.client, kept alive when the
server allows it, reopened transparently when the server closes it, as gunicorn's sync workers
do after every answer) that sends decisions back to back: the next request leaves as soon as
the previous answer is read.
Clients run as threads of one process or as separate processes (`mode`); both share the
machine's cores with the server under test.

Every request has a new request_id, so every request is a full decision, never a replay.
The mix, by position in each client's sequence (deterministic):

- 8 in 10: an allow-listed read (crm.read_record of crm:account/N, profile account-summary;
  a read names no `connector`, which is the connector an action changes)
- 1 in 10: an external e-mail (mail.send_external, profile sales-followup): pending a person
- 1 in 10: a read of data outside the profile (crm:opportunity/N under account-summary): deny

Only answers that complete inside the measured window are counted; the window opens after
the warm-up and closes after the duration, at the same monotonic instants for every client
(CLOCK_MONOTONIC is system-wide, so this holds across processes too)."""

from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

PATH = "/api/v1/decisions"
ON_BEHALF_OF = "sam@corp.example"
PLUGIN = "sales-outreach@2.1.0"
MODEL = "claude-sonnet-4-5"

# The kinds of request, the outcome each must get, and their share of the mix (in tenths).
# "floor" is the read's body sent to the bare floor view, which answers {"outcome": "floor"}.
EXPECTED = {"read": "allow", "send": "pending", "out_of_scope": "deny", "floor": "floor"}
MIX = ("read",) * 8 + ("send", "out_of_scope")
FLOOR_PATH = "/bench/floor"


def proposal(kind: str, n: int) -> dict:
    """The body of the n-th request of a kind; every one gets a fresh request_id."""
    base = {
        "request_id": uuid.uuid4().hex,
        "on_behalf_of": ON_BEHALF_OF,
        "plugin": PLUGIN,
        "model": MODEL,
    }
    if kind in ("read", "floor"):
        account = 1000 + n % 5000
        return base | {
            "profile": "account-summary",
            "action": "crm.read_record",
            "data_sources": [f"crm:account/{account}"],
            "params": {"account_id": account, "fields": ["name", "owner", "open_tickets"]},
        }
    if kind == "send":
        return base | {
            "profile": "sales-followup",
            "action": "mail.send_external",
            "connector": "mail",
            "data_sources": [f"mail:outbox/followup-{n}"],
            "params": {
                "to": f"buyer{n % 977}@customer.example",
                "subject": "Following up on our call",
                "body": "Thanks for your time today; the proposal is attached.",
            },
            "rationale": "The customer asked for a written summary after the call.",
        }
    return base | {
        "profile": "account-summary",
        "action": "crm.read_record",
        "data_sources": [f"crm:opportunity/{5000 + n % 5000}"],
        "params": {"opportunity_id": 5000 + n % 5000},
    }


@dataclass
class ClientResult:
    """What one client saw. Latencies (seconds) are those of answers completed inside the
    measured window, by kind of request; errors count the whole run (warm-up included)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in EXPECTED})
    outcomes: dict[str, int] = field(default_factory=dict)
    unexpected: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    sent: int = 0
    sample: dict | None = None

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 3:
            self.error_samples.append(text[:300])

    def merge(self, other: ClientResult) -> None:
        for kind, values in other.latencies.items():
            self.latencies[kind].extend(values)
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count
        self.unexpected += other.unexpected
        self.errors += other.errors
        self.error_samples.extend(other.error_samples[: 3 - len(self.error_samples)])
        self.sent += other.sent
        self.sample = self.sample or other.sample


def run_client(
    index: int,
    clients: int,
    port: int,
    token: str,
    start_at: float,
    stop_at: float,
    mix: tuple[str, ...] = MIX,
) -> ClientResult:
    """One agent: requests back to back on one keep-alive connection until stop_at."""
    result = ClientResult()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    position = index  # clients start at different places in the mix
    n = index
    while True:
        began = time.monotonic()
        if began >= stop_at:
            break
        kind = mix[position % len(mix)]
        position += 1
        n += clients
        body = json.dumps(proposal(kind, n))
        try:
            connection.request("POST", FLOOR_PATH if kind == "floor" else PATH, body, headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            result.error(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        ended = time.monotonic()
        result.sent += 1
        if not 200 <= response.status < 300:
            result.error(f"HTTP {response.status}: {payload.decode('utf-8', 'replace')}")
            continue
        try:
            answer = json.loads(payload)
            outcome = answer["outcome"]
        except (ValueError, KeyError, TypeError):
            result.error(f"answer without an outcome: {payload[:200]!r}")
            continue
        if result.sample is None:
            result.sample = answer
        if not start_at <= ended <= stop_at:
            continue  # warm-up, or finished after the window closed
        result.latencies[kind].append(ended - began)
        result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        if outcome != EXPECTED[kind]:
            result.unexpected += 1
    connection.close()
    return result


def _process_main(queue, *args) -> None:
    queue.put(run_client(*args))


def drive(
    *,
    mode: str,
    clients: int,
    port: int,
    token: str,
    warmup: float,
    duration: float,
    mix: tuple[str, ...] = MIX,
    at_window: Callable[[str], None] = lambda edge: None,
) -> ClientResult:
    """Run `clients` agents (threads or processes) and merge what they saw.

    `at_window("open")` and `at_window("close")` are called in this process as the measured
    window opens and closes (to sample CPU counters, say)."""
    # Spawned processes need a moment to start: the warm-up begins after a fixed lead so
    # that every client is connected and warm before the window opens.
    lead = 0.2 if mode == "threads" else 2.0
    start_at = time.monotonic() + lead + warmup
    stop_at = start_at + duration
    args = (clients, port, token, start_at, stop_at, mix)
    merged = ClientResult()
    if mode == "threads":
        results = [ClientResult() for _ in range(clients)]

        def target(i: int) -> None:
            results[i] = run_client(i, *args)

        workers = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(clients)]
        collect = None
    else:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        workers = [
            context.Process(target=_process_main, args=(queue, i, *args), daemon=True)
            for i in range(clients)
        ]
        collect = queue
    for worker in workers:
        worker.start()
    _sleep_until(start_at)
    at_window("open")
    _sleep_until(stop_at)
    at_window("close")
    if collect is not None:
        # Read the results before joining: a child does not exit while its result is unsent.
        results = [collect.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=120)
    for result in results:
        merged.merge(result)
    return merged


def _sleep_until(instant: float) -> None:
    while (left := instant - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (fraction in (0, 1])."""
    if not sorted_values:
        return float("nan")
    rank = math.ceil(fraction * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]
