"""Real receivers for the SIEM streaming tests: an rsyslog daemon of our own (not the
system's) and a stdlib HTTP server, both on free localhost ports."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

RSYSLOGD = "/usr/sbin/rsyslogd"

RSYSLOG_CONF = """\
global(workDirectory="{workdir}" maxMessageSize="256k"{tls_global})
module(load="imtcp"{tls_module})
template(name="msg_only" type="string" string="%msg%\\n")
input(type="imtcp" address="127.0.0.1" port="{port}")
action(type="omfile" file="{output}" template="msg_only")
"""
TLS_GLOBAL = (
    ' DefaultNetstreamDriverCAFile="{cert}" DefaultNetstreamDriverCertFile="{cert}"'
    ' DefaultNetstreamDriverKeyFile="{key}"'
)
TLS_MODULE = ' StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"'


def _require(available: bool, message: str) -> None:
    """Skip when a piece of the real receiver is missing, unless AGC_REQUIRE_RSYSLOG=1
    (CI): then fail."""
    if available:
        return
    if os.environ.get("AGC_REQUIRE_RSYSLOG") == "1":
        pytest.fail(f"{message}, and AGC_REQUIRE_RSYSLOG=1 requires it")
    pytest.skip(message)


def require_rsyslogd() -> None:
    """rsyslogd is installed (Debian package rsyslog), or the test skips or fails."""
    _require(os.path.exists(RSYSLOGD), f"{RSYSLOGD} is not installed (Debian package rsyslog)")


def require_rsyslog_tls() -> None:
    """rsyslog's OpenSSL driver (Debian package rsyslog-openssl) and the openssl tool."""
    require_rsyslogd()
    _require(
        bool(glob.glob("/usr/lib/*/rsyslog/lmnsd_ossl.so")),
        "rsyslog's TLS driver is not installed (Debian package rsyslog-openssl)",
    )
    _require(shutil.which("openssl") is not None, "the openssl tool is not installed")


def self_signed_certificate(directory: Path) -> dict[str, str]:
    """A certificate for 127.0.0.1 (and its key), its own CA."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    return {"cert": str(cert), "key": str(key)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Rsyslog:
    """An rsyslogd in the foreground with a config of our own: TCP input on a free
    localhost port, each message's MSG part (our JSON) written as one line of a file."""

    def __init__(self, workdir: Path, *, tls: dict[str, str] | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.output = workdir / "messages.jsonl"
        self.config = workdir / "rsyslog.conf"
        self.config.write_text(
            RSYSLOG_CONF.format(
                workdir=workdir,
                port=self.port,
                output=self.output,
                tls_global=TLS_GLOBAL.format(**tls) if tls else "",
                tls_module=TLS_MODULE if tls else "",
            )
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(self.config), "-i", str(self.workdir / "rsyslogd.pid")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {self.process.stdout.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("rsyslogd did not listen within 10 s")

    def stop(self) -> None:
        """A clean stop (SIGTERM): rsyslog writes what it has read, then exits."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def messages(self, *, expect: int = 0, timeout: float = 10.0) -> list[dict]:
        """The JSON messages written so far, waiting up to `timeout` for at least
        `expect` of them (rsyslog writes the file a moment after reading)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.output.read_text().splitlines() if self.output.exists() else []
            if len(lines) >= expect or time.monotonic() > deadline:
                return [json.loads(line) for line in lines if line.strip()]
            time.sleep(0.05)


class Collector(BaseHTTPRequestHandler):
    """Records each POST (headers and body); answers the status the server is told to."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        server = self.server
        with server.lock:
            status = server.statuses.pop(0) if server.statuses else 200
            if status == 200:
                server.requests.append({"headers": dict(self.headers), "body": body})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"text":"Success","code":0}' if status == 200 else b'{"text":"busy"}')

    def log_message(self, *args):
        pass


class HttpCollector:
    """A real HTTP server in a thread; `statuses` are the answers to the next POSTs."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
        self.server.requests = []
        self.server.statuses = []
        self.server.lock = threading.Lock()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/ingest"

    @property
    def requests(self) -> list[dict]:
        return self.server.requests

    def fail_next(self, *statuses: int) -> None:
        self.server.statuses.extend(statuses)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class CuttingProxy:
    """A TCP relay in front of rsyslog that cuts the first connection after `cut_after`
    bytes, as a receiver dying mid-batch would: rsyslog gets the first part, the sender a
    reset. Later connections are relayed whole: the sender's half-close is passed on, and
    the sender's side is closed once rsyslog closed its own."""

    def __init__(self, target_port: int, *, cut_after: int):
        self.target_port = target_port
        self.cut_after = cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            try:
                with client, socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                    if self.connections == 1:
                        self._cut(client, upstream)
                    else:
                        self._relay(client, upstream)
            except OSError:
                # The receiver behind the relay is gone (the test has ended or stopped it):
                # the sender sees its connection close, as it would without the relay.
                client.close()

    def _cut(self, client: socket.socket, upstream: socket.socket) -> None:
        forwarded = 0
        while forwarded < self.cut_after:
            data = client.recv(min(4096, self.cut_after - forwarded))
            if not data:
                break
            upstream.sendall(data)
            forwarded += len(data)
        time.sleep(0.1)  # rsyslog reads what it got before the connection drops
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        while data := client.recv(65536):
            upstream.sendall(data)
        upstream.shutdown(socket.SHUT_WR)
        while upstream.recv(4096):
            pass
