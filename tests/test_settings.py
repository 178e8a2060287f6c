"""Settings come from the environment, with safe production settings when DEBUG is off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    unset = ("SECRET_KEY", "AUDIT_SIGNING_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


KEYS = {
    "SECRET_KEY": "k" * 20 + "production-like-key-for-the-check-0123456789",
    "AUDIT_SIGNING_KEY": "a" * 20 + "production-like-audit-key-0123456789abcdef",
}
WITNESS = {"AUDIT_WITNESS_PATH": "/var/lib/agc/audit-witness.jsonl"}


def test_deploy_check_is_clean_with_debug_off():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECURE_SSL_REDIRECT="1",
        SESSION_COOKIE_SECURE="1",
        CSRF_COOKIE_SECURE="1",
        **KEYS,
        **WITNESS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_when_no_audit_witness_is_configured():
    result = manage("check", "--deploy", DEBUG="0", AUDIT_WITNESS_PATH="", **KEYS)
    assert "audit.W001" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "AUDIT_SIGNING_KEY"])
def test_production_refuses_to_start_without_its_keys(missing):
    keys = {k: v for k, v in KEYS.items() if k != missing}
    result = manage("check", DEBUG="0", **keys)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_debug_mode_runs_without_keys():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_a_bad_boolean_is_refused():
    result = manage("check", DEBUG="maybe", **KEYS)
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode(tmp_path):
    """The SQLite file the console opens is in WAL mode (readers never block the writer).
    The test database lives in memory, where SQLite cannot use WAL, so a real file is
    opened with the project's settings in a fresh process."""
    database = tmp_path / "console.sqlite3"
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    result = manage("shell", "-c", code, DEBUG="1", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "wal"
    assert database.exists()


def test_a_rate_limit_that_is_not_a_rate_is_refused_at_start_up():
    result = manage("check", DEBUG="1", RATE_LIMIT_DECISIONS="lots")
    assert result.returncode != 0
    assert "RATE_LIMIT_DECISIONS='lots' is not a rate" in result.stderr


def test_rate_limits_and_the_sign_in_lockout_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.RATE_LIMITS['decisions'], s.RATE_LIMITS['approvals'], "
        "s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.CACHES['default']['BACKEND'])"
    )
    result = manage(
        "shell",
        "-c",
        code,
        DEBUG="1",
        RATE_LIMIT_DECISIONS="50/second",
        RATE_LIMIT_APPROVALS="off",
        LOGIN_FAILURE_LIMIT="7",
        LOGIN_COOLOFF_MINUTES="30",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "(50,",
        "1)",
        "None",
        "7",
        "0:30:00",
        "django_redis.cache.RedisCache",
    ]
