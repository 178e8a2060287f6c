"""Audit fixtures: a small, varied log, and raw SQL with the append-only guards off."""

import time

import pytest
from django.db import connection

from approvals.services import approval_vote_cast


@pytest.fixture
def log(decide, approver, make_pending):
    """A log with an allowed read, a denial, a send approved by alex, one rejected."""
    decide()
    decide(data_sources=["crm:contact/7"])
    sent = make_pending("send")
    approval_vote_cast(sent.pk, voter=approver, verdict="approve")
    update = make_pending("update")
    approval_vote_cast(update.pk, voter=approver, verdict="reject", comment="no")
    return {"sent": sent, "update": update}


@pytest.fixture
def raw_sql():
    """Run SQL as an attacker with superuser access to the database would: on PostgreSQL
    with triggers off for that statement (session_replication_role = replica)."""

    def run(sql: str, params=()):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = origin")

    return run


@pytest.fixture
def witness(settings, tmp_path):
    """A witness file for this test."""
    settings.AUDIT_WITNESS_PATH = str(tmp_path / "witness.jsonl")
    return tmp_path / "witness.jsonl"


@pytest.fixture
def server_in_new_york(monkeypatch):
    """The process's local time zone is not UTC (a server set to its office's zone): what is
    hashed or written must not change with it."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
