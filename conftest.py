"""Test configuration shared by every app. The environment is set in pyproject.toml
([tool.pytest.ini_options] env); the personas and the small policy live in
governance/tests/fixtures.py."""

import pytest

pytest_plugins = ["governance.tests.fixtures"]


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on other databases, saying why."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...); SQLite has no triggers "
        "on this table and no row locks"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
