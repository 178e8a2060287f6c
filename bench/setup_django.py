"""What the PostgreSQL benchmarks that call Django in-process share: their settings from the
environment (DEBUG off, fresh random keys, their own database) and a check for a database
loaded by an earlier run."""

from __future__ import annotations

import os
import secrets
import subprocess


def configure(database: str, **extra: str) -> None:
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        AUDIT_SIGNING_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="governance.settings",
        **extra,
    )


def database_exists(database: str) -> bool:
    listed = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SELECT datname FROM pg_database"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return database in listed


def database_recreate(database: str) -> None:
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
