"""Audit fixtures: a small, varied log, and raw SQL with the append-only guards off."""

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
