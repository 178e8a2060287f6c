"""Approval fixtures live in governance/tests/fixtures.py (make_pending, pending), shared
with the audit tests."""
