"""Celery tasks of the audit log's core. The insights' tasks live in audit/insights/tasks.py."""

import logging

from celery import shared_task

from audit.seal_services import AuditIntegrityError, audit_seal_new_events
from audit.services import audit_refusals_flush

logger = logging.getLogger(__name__)


@shared_task
def seal_audit_events() -> int:
    """Seal the events written since the last run (beat, every minute). Never on the
    decision path; idempotent. A forged event or a seal gone from the database stops the
    sealing: logged as an error (and, once events wait too long, `verify_audit` fails)."""
    try:
        return len(audit_seal_new_events())
    except AuditIntegrityError as error:
        logger.error("Audit sealing stopped: %s", error)
        raise


@shared_task
def deliver_outbox() -> int:
    """Send what changes left in the outbox (approvers' e-mails), retrying failures with
    backoff (beat, every ten seconds). Safe to run in several workers at once."""
    from audit.outbox import outbox_deliver

    return outbox_deliver()


@shared_task
def flush_refusal_counts() -> int:
    """Write the counts of refused requests (bad API tokens, sign-ins while locked out)
    whose minute is over into the audit log (beat, every minute). Idempotent."""
    return audit_refusals_flush()


@shared_task
def stream_audit_events() -> int:
    """Deliver the audit events each SIEM sink has not acknowledged yet, in id order
    (beat, every five seconds). A sink that is down is retried at the next run and
    catches up; several workers at once share the sinks (each is leased to one)."""
    from audit.streaming import audit_stream_deliver

    return sum(result.delivered for result in audit_stream_deliver())
