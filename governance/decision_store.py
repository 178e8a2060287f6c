"""Writing one decision: its row, its audit event and, when it is pending, its approval
request and the approvers' notification, together and only under the policy it was made
on. Used only by `services.decision_create` (the only writer of Decision).

On PostgreSQL it is one statement, one round trip: data-modifying CTEs chained so that
nothing is written unless the policy revision is still the one the decision was made under
(`rev`), and nothing but the first decision is kept for a (runtime, request_id) (`ON
CONFLICT DO NOTHING`):

    WITH rev AS (SELECT 1 FROM governance_policyrevision WHERE id = 1 AND token = $1),
         d   AS (INSERT INTO governance_decision (...) SELECT r.... FROM rev,
                 jsonb_populate_record(NULL::governance_decision, $2) r
                 ON CONFLICT (runtime_id, request_id) DO NOTHING RETURNING 1),
         e   AS (INSERT INTO audit_auditevent (...) SELECT ... FROM d, ...($3) r),
         a   AS (INSERT INTO approvals_approvalrequest (...) ... FROM d, ...($4) r
                 RETURNING id),
         o   AS (INSERT INTO audit_outboxmessage (...) ... a.id ... FROM a, ...($5) r)
    SELECT (SELECT count(*) FROM rev), (SELECT count(*) FROM d), (SELECT id FROM a)

Each row travels as one JSON parameter that `jsonb_populate_record` turns back into the
table's types, so the statement has five parameters whatever the number of columns.

The statement runs in autocommit, so the answer leaves only after the commit that made
the decision and its audit record durable. Elsewhere (SQLite, the embedded default) the
same rows are written by the ORM in one transaction with the same revision check.

The statement's text depends only on the models, so it is built once per shape and
PostgreSQL prepares it after a few executions (server-side binding, see settings)."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, models, transaction
from django.db.models.fields import AutoFieldMixin

from approvals.models import ApprovalRequest
from audit.models import AuditEvent, OutboxMessage
from governance.models import Decision, PolicyRevision


class StalePolicy(Exception):
    """The policy revision moved on since the decision's policy was read: decide again."""


@dataclass
class DecisionRows:
    """The unsaved rows of one decision."""

    decision: Decision
    event: AuditEvent
    approval: ApprovalRequest | None = None
    notification: OutboxMessage | None = None  # its payload gets "approval_id"


def decision_rows_write(rows: DecisionRows, *, token: str) -> bool:
    """Write the rows if the policy revision token is still `token`.

    True when written; False when the (runtime, request_id) was already decided (nothing
    written). Raises StalePolicy when the revision moved on (nothing written)."""
    if connection.vendor == "postgresql":
        return _write_in_one_statement(rows, token)
    return _write_with_the_orm(rows, token)


def _write_with_the_orm(rows: DecisionRows, token: str) -> bool:
    with transaction.atomic():
        # SQLite's write transaction (BEGIN IMMEDIATE) holds off every other writer, so the
        # revision read here stays true until the commit.
        if not PolicyRevision.objects.filter(id=1, token=token).exists():
            raise StalePolicy
        try:
            with transaction.atomic():
                rows.decision.save(force_insert=True)
        except IntegrityError:
            return False
        if rows.approval is not None:
            rows.approval.save(force_insert=True)
            rows.notification.payload["approval_id"] = rows.approval.pk
            rows.notification.save(force_insert=True)
        rows.event.save(force_insert=True)
    return True


def _write_in_one_statement(rows: DecisionRows, token: str) -> bool:
    pending = rows.approval is not None
    params = [token, _row(rows.decision), _row(rows.event)]
    if pending:
        params += [_row(rows.approval), _row(rows.notification)]
    with connection.cursor() as cursor:
        cursor.execute(_statement(pending), params)
        revision_ok, inserted, approval_id = cursor.fetchone()
    if not revision_ok:
        raise StalePolicy
    if not inserted:
        return False
    for row in (rows.decision, rows.event):
        _mark_saved(row)
    if pending:
        rows.approval.pk = approval_id
        rows.notification.payload["approval_id"] = approval_id
        _mark_saved(rows.approval)
        # decision.approval_request answers from memory, as after the ORM path.
        Decision.approval_request.related.set_cached_value(rows.decision, rows.approval)
    return True


def _mark_saved(instance: models.Model) -> None:
    instance._state.adding = False
    instance._state.db = connection.alias


def _columns(model: type[models.Model]) -> list[str]:
    """The columns an insert gives values for: all but an auto-increment key."""
    return [
        f.column
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]


def _row(instance: models.Model) -> str:
    """The instance's row as one JSON object, which `jsonb_populate_record` turns back into
    the table's types in the database: one parameter per row instead of one per column
    (psycopg caches the conversion of statements with at most 50 parameters)."""
    row = {f.column: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    return json.dumps(row, default=_json_value, separators=(",", ":"), ensure_ascii=False)


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()  # full precision: the audit hash covers these values
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _insert(model: type[models.Model], source: str, *, payload: str = "") -> str:
    """INSERT INTO <table> (<columns>) SELECT r.<column>, ... FROM <source>, <the row>."""
    table = model._meta.db_table
    columns = _columns(model)
    values = [payload if payload and c == "payload" else f"r.{c}" for c in columns]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM {source}, jsonb_populate_record(NULL::{table}, %s::jsonb) r"
    )


@functools.cache
def _statement(pending: bool) -> str:
    """The statement for a decision that is (or is not) pending. Only table and column names
    from the models are interpolated; every value is a parameter."""
    parts = [
        "WITH rev AS (SELECT 1 FROM governance_policyrevision WHERE id = 1 AND token = %s::uuid)",
        f"d AS ({_insert(Decision, 'rev')} "
        "ON CONFLICT (runtime_id, request_id) DO NOTHING RETURNING 1)",
        f"e AS ({_insert(AuditEvent, 'd')} RETURNING 1)",
    ]
    approval_id = "NULL::bigint"
    if pending:
        payload = "r.payload || jsonb_build_object('approval_id', a.id)"
        parts += [
            f"a AS ({_insert(ApprovalRequest, 'd')} RETURNING id)",
            f"o AS ({_insert(OutboxMessage, 'a', payload=payload)} RETURNING 1)",
        ]
        approval_id = "(SELECT id FROM a)"
    final = f"SELECT (SELECT count(*) FROM rev), (SELECT count(*) FROM d), {approval_id}"
    return ",\n".join(parts) + "\n" + final
