"""Queries per decision of each kind, counted in-process against the bench's database
(run by bench/run.py with its environment; prints one JSON line)."""

import json
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
django.setup()

from decisions import proposal  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(token: str) -> None:
    client = Client(HTTP_HOST="127.0.0.1")

    def post(body: dict):
        response = client.post(
            "/api/v1/decisions",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code in (200, 201), response.content
        return response

    post(proposal("read", 0))  # builds the policy cache and records the runtime as seen
    counts = {}
    for kind in ("read", "out_of_scope", "send"):
        with CaptureQueriesContext(connection) as captured:
            post(proposal(kind, 1))
        counts[kind] = len(captured.captured_queries)
    again = proposal("read", 2)
    post(again)
    with CaptureQueriesContext(connection) as captured:
        post(again)
    counts["replay"] = len(captured.captured_queries)
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1])
