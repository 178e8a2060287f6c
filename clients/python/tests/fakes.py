"""Real local HTTP servers that stand in for the console, or for another host, in the
tests of failures: what a client must refuse, and what must never reach anybody else."""

import http.server
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace


@dataclass
class Seen:
    """One request a FakeConsole received."""

    method: str
    path: str
    headers: dict[str, str]
    body: object


Answer = tuple[int, dict[str, str], bytes] | tuple[int, dict[str, str], bytes, float]


@dataclass
class FakeConsole:
    """A real local HTTP server standing in for the console (or for another host): each
    request is answered by `respond(seen) -> (status, headers, body[, delay])` and recorded
    in `seen`, headers included, so a test can tell whether a token reached it."""

    respond: Callable[[Seen], Answer]
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers), _loads(raw))
                fake.seen.append(seen)
                status, headers, body, *delay = fake.respond(seen)
                time.sleep(delay[0] if delay else 0)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: close() waits for the serving loop to notice (0.5 s by
        # default, per test; these tests also run once per mutant in `make mutation`).
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self):
        """Stop answering: from now on the address refuses connections."""
        self.server.shutdown()
        self.server.server_close()


class Clock:
    """Stands in for the `time` module inside the client (agent_governance.client): time
    moves only when the client sleeps, so waits and backoffs are exact and instant."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def jitter(monkeypatch, value: float) -> None:
    """The client's random jitter, fixed: 0.5 + value times each backoff, 0.8 + 0.4 * value
    times each wait interval."""
    import agent_governance.client

    monkeypatch.setattr(agent_governance.client, "random", SimpleNamespace(random=lambda: value))


def _loads(raw: bytes) -> object:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def decision_json(
    request_id: str,
    *,
    decision_id: str = "d-1",
    status: str = "allowed",
    params: dict | None = None,
) -> bytes:
    """A decision as the console answers it."""
    outcome = {"allowed": "allow", "pending": "pending"}.get(status, "deny")
    return json.dumps(
        {
            "decision_id": decision_id,
            "request_id": request_id,
            "outcome": outcome,
            "status": status,
            "reason": "auto_execute_allowlisted" if status == "allowed" else "needs_a_person",
            "message": "",
            "action": "x.y",
            "params": params or {},
            "params_digest": "0" * 64,
        }
    ).encode()


JSON = {"Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hostile_console(kind: str, elsewhere: FakeConsole, extra: Callable | None = None):
    """A console that answers decisions in one of the ways a client must refuse:
    `redirect` (302 to another host), `wrong_request_id` (an "allowed" for another
    request), `wrong_decision_id` (pending, then polling returns another decision as
    "approved"), `poll_redirect` (pending, then polling is redirected with 307), `garbage`
    (an HTML page with 200). `extra(seen)` answers anything else (catalog, profiles)."""

    def respond(seen: Seen) -> Answer:
        asked = seen.body.get("request_id", "") if isinstance(seen.body, dict) else ""
        params = seen.body.get("params", {}) if isinstance(seen.body, dict) else {}
        if seen.path.startswith("/api/v1/decisions"):
            return _hostile(kind, seen, asked, params, elsewhere)
        if extra is not None:
            return extra(seen)
        return 404, JSON, b'{"code": "not_found", "detail": "No such thing."}'

    return FakeConsole(respond)


def _hostile(kind, seen, asked, params, elsewhere) -> Answer:
    if kind == "redirect":
        return 302, {"Location": f"{elsewhere.url}{seen.path}"}, b""
    if kind == "wrong_request_id":
        return 201, JSON, decision_json("someone-elses-request", params=params)
    if kind == "garbage":
        return 200, {"Content-Type": "text/html"}, b"<html>Sign in to the proxy</html>"
    if seen.method == "POST":
        return 201, JSON, decision_json(asked, decision_id="d-1", status="pending", params=params)
    if kind == "wrong_decision_id":
        return 200, JSON, decision_json("other", decision_id="d-2", status="approved")
    return 307, {"Location": f"{elsewhere.url}{seen.path}"}, b""  # poll_redirect


HOSTILE = ["redirect", "wrong_request_id", "wrong_decision_id", "poll_redirect", "garbage"]
