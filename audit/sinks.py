"""The SIEM sinks the audit stream is delivered to: their configuration (AUDIT_SINKS) and
the two transports, syslog (RFC 5424 over TCP or TLS, RFC 6587 octet counting) and HTTP
(a batched JSON Lines POST, or Splunk HEC's event format). Stdlib only.

A sink is one URL; the console's own options ride in the URL's fragment, which is never
sent anywhere:

    syslog+tcp://siem.example:514
    syslog+tls://siem.example:6514#name=siem&ca=/etc/agc/siem-ca.pem&facility=13
    https://splunk.example:8088/services/collector/event#name=splunk&format=hec&auth=Splunk
    https://logs.example/ingest#name=pipeline

The HTTP token comes from the environment variable AUDIT_SINK_<NAME>_TOKEN (the name
upper-cased, anything else than letters and digits as `_`), never from the URL.

`send(records)` returns only once the sink acknowledged every record: an HTTP 2xx, or for
syslog, which has no acknowledgement of its own, the receiver closing the connection
after reading everything we sent (we half-close, it reads to the end and closes). A
failure raises SinkError and the stream sends the same records again later (at least
once)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from audit.choices import SinkKind

SYSLOG_SCHEMES = {"syslog+tcp": False, "syslog+tls": True, "syslog": False}
HTTP_SCHEMES = ("http", "https")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
FRAGMENT_OPTIONS = {"name", "ca", "cert", "key", "verify", "facility", "format", "auth"}
LOG_AUDIT = 13  # the syslog facility "log audit" (RFC 5424, table 1)
APP_NAME = "agc"
MSGID = "audit"
# OCSF severity_id -> syslog severity: Informational -> 6, Medium -> 4, High -> 3.
SYSLOG_SEVERITY = {1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 0}


class SinkConfigError(ValueError):
    """AUDIT_SINKS names a sink the console cannot use; the message says why."""


class SinkError(Exception):
    """A sink did not acknowledge a batch; nothing of it counts as delivered."""


@dataclass(frozen=True)
class Sink:
    """One configured sink."""

    name: str
    kind: SinkKind
    url: str  # what we connect or POST to, without the fragment
    options: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    @property
    def target(self) -> str:
        """Where it sends, for the admins' page (a URL carries no credentials here)."""
        return self.url

    def send(self, records: list[dict[str, Any]]) -> None:
        if self.kind == SinkKind.SYSLOG:
            syslog_send(self, records)
        else:
            http_send(self, records)


def sinks_parse(values: list[str], *, timeout: float = 10.0) -> list[Sink]:
    """The sinks of AUDIT_SINKS (a list of URLs), or SinkConfigError naming the bad one."""
    sinks = [sink_parse(value.strip(), timeout=timeout) for value in values if value.strip()]
    names = [sink.name for sink in sinks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SinkConfigError(
            f"AUDIT_SINKS names the sink {duplicates[0]!r} twice: give each one its own #name=..."
        )
    return sinks


def sink_parse(value: str, *, timeout: float = 10.0) -> Sink:
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.fragment, keep_blank_values=True))
    unknown = sorted(set(options) - FRAGMENT_OPTIONS)
    if unknown:
        raise SinkConfigError(f"Sink {value!r}: unknown option {unknown[0]!r} after '#'.")
    if parts.username or parts.password:
        raise SinkConfigError(
            f"Sink {parts.hostname}: no credentials in the URL; an HTTP sink's token "
            "comes from AUDIT_SINK_<NAME>_TOKEN."
        )
    if scheme in SYSLOG_SCHEMES:
        kind = SinkKind.SYSLOG
        if not parts.hostname or not parts.port:
            raise SinkConfigError(f"Sink {value!r}: a syslog sink needs a host and a port.")
        if parts.path not in ("", "/"):
            raise SinkConfigError(f"Sink {value!r}: a syslog sink has no path.")
    elif scheme in HTTP_SCHEMES:
        kind = SinkKind.HTTP
        if not parts.hostname:
            raise SinkConfigError(f"Sink {value!r}: an HTTP sink needs a host.")
    else:
        raise SinkConfigError(
            f"Sink {value!r}: the scheme must be syslog+tcp, syslog+tls, http or https."
        )
    _check_options(value, options)
    url = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    name = options.get("name") or f"{kind.value}-{parts.hostname}-{parts.port or scheme}"
    if not NAME_RE.match(name):
        raise SinkConfigError(f"Sink {value!r}: the name {name!r} is not a simple word.")
    return Sink(name=name, kind=kind, url=url, options=options, timeout=timeout)


def _check_options(value: str, options: dict[str, str]) -> None:
    if options.get("format", "jsonl") not in ("jsonl", "hec"):
        raise SinkConfigError(f"Sink {value!r}: format must be jsonl or hec.")
    if options.get("verify", "1") not in ("0", "1"):
        raise SinkConfigError(f"Sink {value!r}: verify must be 0 or 1.")
    facility = options.get("facility", str(LOG_AUDIT))
    if not facility.isdigit() or int(facility) > 23:
        raise SinkConfigError(f"Sink {value!r}: facility must be a number from 0 to 23.")
    for path_option in ("ca", "cert", "key"):
        if path_option in options and not os.path.isfile(options[path_option]):
            raise SinkConfigError(
                f"Sink {value!r}: the {path_option} file {options[path_option]!r} does not exist."
            )


def token_variable(name: str) -> str:
    """The environment variable holding an HTTP sink's token."""
    return "AUDIT_SINK_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_TOKEN"


# ---------------------------------------------------------------------------
# Syslog: RFC 5424 messages, RFC 6587 octet-counting framing, over TCP or TLS


def syslog_frame(record: dict[str, Any], *, facility: int = LOG_AUDIT, hostname: str) -> bytes:
    """One RFC 5424 message carrying the record as JSON, framed as `<length> <message>`.

    The JSON is ASCII (non-ASCII escaped) and on one line, so any receiver reads the MSG
    part as is; there is no structured data ("-")."""
    severity = SYSLOG_SEVERITY.get(record.get("severity_id", 1), 6)
    stamp = datetime.fromtimestamp(record["time"] / 1000, tz=UTC)
    header = (
        f"<{facility * 8 + severity}>1 {stamp.isoformat(timespec='milliseconds')[:-6]}Z "
        f"{hostname} {APP_NAME} - {MSGID} -"
    )
    message = f"{header} {json.dumps(record, separators=(',', ':'), sort_keys=True)}".encode()
    return str(len(message)).encode() + b" " + message


def syslog_send(sink: Sink, records: list[dict[str, Any]]) -> None:
    """Send the records on a new connection, half-close it and wait until the receiver
    closes its side: only then has it read every byte (a TCP write succeeds into the
    kernel's buffer even when the receiver has already gone)."""
    parts = urlsplit(sink.url)
    facility = int(sink.options.get("facility", LOG_AUDIT))
    hostname = _syslog_hostname()
    payload = b"".join(syslog_frame(r, facility=facility, hostname=hostname) for r in records)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=sink.timeout) as raw:
            if SYSLOG_SCHEMES[parts.scheme]:
                _tls_send(sink, raw, parts.hostname, payload)
            else:
                raw.sendall(payload)
                raw.shutdown(socket.SHUT_WR)
                _await_close(raw)
    except (OSError, ssl.SSLError) as error:
        raise SinkError(f"syslog {parts.hostname}:{parts.port}: {error}") from error


def _tls_send(sink: Sink, raw: socket.socket, hostname: str, payload: bytes) -> None:
    """TLS has no half-close: send our close_notify after the records and wait for the
    receiver to answer it or to close the connection. Either way it has read up to our
    close_notify, so every record before it. A reset instead is a failure."""
    with _tls_context(sink).wrap_socket(raw, server_hostname=hostname) as tls:
        tls.sendall(payload)
        try:
            tls.unwrap()
        except ssl.SSLEOFError:
            pass  # it closed without a close_notify of its own, after reading ours
        except ssl.SSLError as error:
            if "UNEXPECTED_EOF" not in str(error):
                raise


def _tls_context(sink: Sink) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=sink.options.get("ca"))
    if sink.options.get("verify") == "0":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if "cert" in sink.options:
        context.load_cert_chain(sink.options["cert"], sink.options.get("key"))
    return context


def _await_close(connection: socket.socket) -> None:
    """Read until the receiver closes. A syslog receiver never writes; bytes would mean we
    are not talking to one."""
    while True:
        data = connection.recv(4096)
        if not data:
            return
        raise SinkError("the syslog receiver answered; it does not look like syslog over TCP")


def _syslog_hostname() -> str:
    name = socket.gethostname() or "-"
    return "".join(c for c in name if 33 <= ord(c) <= 126)[:255] or "-"


# ---------------------------------------------------------------------------
# HTTP: one POST per batch


def http_body(records: list[dict[str, Any]], *, format: str = "jsonl") -> bytes:
    """JSON Lines (one OCSF event per line), or Splunk HEC's event format (one
    {"time", "sourcetype", "event"} object per line)."""
    if format == "hec":
        records = [
            {"time": r["time"] / 1000, "sourcetype": "ocsf:api_activity", "event": r}
            for r in records
        ]
    return b"".join(
        json.dumps(r, separators=(",", ":"), sort_keys=True).encode() + b"\n" for r in records
    )


def http_send(sink: Sink, records: list[dict[str, Any]]) -> None:
    """POST the batch; any answer but a 2xx is a failure."""
    body = http_body(records, format=sink.options.get("format", "jsonl"))
    # The scheme is http or https: sink_parse refuses any other.
    request = urllib.request.Request(  # noqa: S310
        sink.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-ndjson", "User-Agent": "agc-audit-stream"},
    )
    token = os.environ.get(token_variable(sink.name), "")
    if token:
        request.add_header("Authorization", f"{sink.options.get('auth', 'Bearer')} {token}")
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    try:
        if sink.url.startswith("https:"):
            handlers.append(urllib.request.HTTPSHandler(context=_tls_context(sink)))
        with urllib.request.build_opener(*handlers).open(request, timeout=sink.timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        raise SinkError(f"HTTP {error.code} from {sink.url}: {_excerpt(error)}") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise SinkError(f"{sink.url}: {getattr(error, 'reason', error)!s}") from error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would follow it as a GET without the batch, and
    the 200 at the end of it would read as an acknowledgement."""

    def redirect_request(self, *args, **kwargs):
        return None


def _excerpt(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(300).decode(errors="replace").strip() or error.reason
    except OSError:
        return str(error.reason)
