"""Test configuration shared by every app. The environment is set in pyproject.toml
([tool.pytest.ini_options] env); the personas and the small policy live in
governance/tests/fixtures.py."""

import importlib
import importlib.abc
import importlib.util
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest


class _ClientUnderMutation(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Under mutation testing, `agent_governance[.x]` is `clients.python.agent_governance[.x]`.

    mutmut names a mutant after its file's path (clients/python/agent_governance/client.py:
    module `clients.python.agent_governance.client`) and a mutated function only switches
    to its mutant when its `__module__` is that name. The tests (and the console's own
    code) import `agent_governance`: this finder, first on the meta path, imports the
    module under its path-derived name (from mutants/, a namespace package) and hands out
    that same module object for the short name, so there is one copy of each module and
    its functions carry the name mutmut looks for. Installed before anything imports the
    client (nothing has when this conftest is loaded)."""

    PACKAGE = "agent_governance"
    PREFIX = "clients.python."

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.PACKAGE or fullname.startswith(self.PACKAGE + "."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(self.PREFIX + spec.name)

    def exec_module(self, module):
        """Already executed, under its long name."""


if "MUTANT_UNDER_TEST" in os.environ and not any(
    isinstance(finder, _ClientUnderMutation) for finder in sys.meta_path
):
    sys.meta_path.insert(0, _ClientUnderMutation())

pytest_plugins = ["governance.tests.fixtures"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached pages are keyed by data (a refresh time)
    that another test, its data rolled back, can repeat exactly. (Cleared before the test,
    not after: a test may point the cache at a server that is down on purpose.)"""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def keep_test_connection(monkeypatch):
    """For tests that call the WSGI application directly (not through Django's test client):
    like the test client, keep Django from closing the database connection at the start and
    end of each request, which would end the test's transaction on PostgreSQL. (Disconnecting
    the signal is not enough: every test-client request connects it again when it ends.)"""
    from django.db.backends.base.base import BaseDatabaseWrapper

    monkeypatch.setattr(BaseDatabaseWrapper, "close_if_unusable_or_obsolete", lambda self: None)


def pytest_configure(config):
    """`AGC_TEST_CLOCK=2026-11-28T10:00:00Z make test` runs the whole suite as if the clock
    read that moment (ticking from there), to find tests that depend on today's date: run
    it once on a Saturday and once on a Monday. Tests that build history freeze the clock
    themselves, so they pass on any day."""
    moment = os.environ.get("AGC_TEST_CLOCK")
    if moment:
        import time_machine

        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


# Modules whose mutants are judged by the database-free tests alone (`make mutation-quick`
# in CI): a database test that happens to call them would cost a database per mutant.
MUTATION_DATABASE_FREE = (
    "governance.engine.",
    "governance.identity.",
    "governance.paths.",
    "audit.sealing.",
)


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on other databases, saying why. Under mutation testing,
    leave out the database tests for the mutants of MUTATION_DATABASE_FREE."""
    from django.db import connection

    if os.environ.get("MUTANT_UNDER_TEST", "").startswith(MUTATION_DATABASE_FREE):
        kept = [item for item in items if "django_db" not in item.keywords]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...); SQLite has no triggers "
        "on this table and no row locks"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


TRUNCATE_GUARDS = [
    ("audit_auditevent", "audit_event_no_truncate"),
    ("audit_auditseal", "audit_auditseal_no_truncate"),
    ("audit_auditpurge", "audit_auditpurge_no_truncate"),
]


# Mutation testing (`make mutation`, tests/MUTATION.md) runs the selected tests once per
# mutant, each time in a new process: building the SQLite test database with every
# migration would be most of each run. With AGC_MUTATION_DB_DIR set (the Makefile sets it),
# each process gets its own database file there, copied from a template that the first
# process to build one leaves behind (migrations are then already applied).
MUTATION_DB_DIR = os.environ.get("AGC_MUTATION_DB_DIR")

if "MUTANT_UNDER_TEST" in os.environ:
    # Under mutmut (its call tracing, two runs at once): Hypothesis's speed health check and
    # per-example deadline would fail tests for being slow, not wrong; and the examples are
    # the same for every mutant, so a mutant's result does not depend on luck.
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "mutation", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile("mutation")


def _mutation_db_paths() -> tuple[Path, Path] | None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if not MUTATION_DB_DIR or engine != "django.db.backends.sqlite3":
        return None
    folder = Path(MUTATION_DB_DIR)
    return folder / f"test-{os.getpid()}.sqlite3", folder / "template.sqlite3"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    paths = _mutation_db_paths()
    if paths:
        from django.conf import settings

        own, template = paths
        own.parent.mkdir(parents=True, exist_ok=True)
        if template.exists():
            shutil.copyfile(template, own)
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(own)


@pytest.fixture(scope="session")
def django_db_keepdb(request):
    """Keep (reuse) the per-process database under mutation testing; else --reuse-db."""
    return bool(_mutation_db_paths()) or request.config.getvalue("reuse_db")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL, switch off the audit tables' TRUNCATE guards in the test database.

    pytest-django empties the tables with TRUNCATE after each transactional test (the
    browser tests); the guards would refuse. Row-level UPDATE/DELETE guards stay on, and
    the test of the TRUNCATE guard switches it back on for itself.

    Under mutation testing, the first process publishes its freshly migrated database as
    the template (sqlite's backup API: the WAL file's pages included), and every process
    removes its own file at the end."""
    from django.db import connection

    paths = _mutation_db_paths()
    if paths:
        own, template = paths
        if not template.exists():
            partial = template.with_suffix(f".{os.getpid()}.partial")
            source, target = sqlite3.connect(own), sqlite3.connect(partial)
            with target:
                source.backup(target)
            source.close()
            target.close()
            os.replace(partial, template)
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table, trigger in TRUNCATE_GUARDS:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    yield
    if paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{paths[0]}{suffix}").unlink(missing_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _serial_live_server_on_sqlite():
    """On SQLite, the live server's request threads all share the test's one in-memory
    connection, so two requests at once collide ("database table is locked"). There, the
    live server handles one request at a time; on PostgreSQL each thread has its own
    connection and the server stays threaded."""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    if connection.vendor != "sqlite":
        yield
        return

    class SerialWSGIServer(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    original = LiveServerThread.server_class
    LiveServerThread.server_class = SerialWSGIServer
    yield
    LiveServerThread.server_class = original
