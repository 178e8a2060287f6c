"""Insights over everything the console records: rollups, dashboards and charts, tuning
recommendations, the what-if simulator and the quarterly review.

They sit on top of every app and read from them (decisions, approvals, catalog, the audit
log); nothing below imports them. The audit log's core (audit/models.py, services.py,
sealing.py, verification.py, selectors.py: events, seals, verification, export) is the
floor everything writes to. The insights keep their models in audit/models.py (same app,
same tables) and their pages under the `audit:` URL names."""
