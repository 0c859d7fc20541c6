"""Backups that restore: ``ecmo backup FILE`` and ``ecmo restore FILE``.

- SQLite: SQLite's online backup API copies a consistent snapshot while the app keeps running (readers and the
  WAL writer are not stopped); restore copies the file back through the same API into the configured database.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the server's own tools, so large objects,
  sequences and constraints come back exactly); connection details come from ``DATABASE_URL``.

A restore goes only into an empty database (no table holds a row) unless ``--force`` is given, so that a
mistyped command cannot overwrite a live installation. After a restore the row counts of every table are
printed and the audit chain is verified; a broken chain fails the restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection, connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Counts:
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def table_counts() -> Counts:
    """Rows per model table of this project's apps (what a restore must bring back)."""
    rows: dict[str, int] = {}
    existing = set(connection.introspection.table_names())
    for model in apps.get_models():
        table = model._meta.db_table
        if table in existing and not model._meta.proxy and model._meta.managed:
            rows[table] = model._default_manager.using("default").count()
    return Counts(rows)


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _pg_env() -> tuple[list[str], dict[str, str]]:
    settings = connection.settings_dict
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    args = ["--host", str(settings.get("HOST") or "localhost"), "--port", str(settings.get("PORT") or 5432)]
    if settings.get("USER"):
        args += ["--username", str(settings["USER"])]
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def backup(path: Path) -> Counts:
    """Write a consistent backup of the configured database to ``path``; returns the counts it holds."""
    engine = _engine()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.unlink(missing_ok=True)
    counts = table_counts()
    if engine == "sqlite":
        connection.ensure_connection()
        source: Any = connection.connection
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
        finally:
            target.close()
    else:
        pg_dump = _tool("pg_dump")
        args, env = _pg_env()
        name = str(connection.settings_dict["NAME"])
        result = subprocess.run(  # noqa: S603 - fixed argument list from settings, no shell
            [pg_dump, "--format=custom", "--no-owner", "--file", str(tmp), *args, name],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    os.replace(tmp, path)  # a backup file is either whole or absent
    return counts


def _kind_of(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither an ECMO Steward SQLite backup nor a pg_dump custom-format file")


def restore(path: Path, *, force: bool = False) -> Counts:
    """Restore ``path`` into the configured database (empty unless ``force``); returns the counts restored."""
    engine = _engine()
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    kind = _kind_of(path)
    if kind != engine:
        raise BackupError(f"{path} is a {kind} backup but the configured database is {engine}")
    if not force:
        existing = set(connection.introspection.table_names())
        if existing and table_counts().total > 0:
            raise BackupError("the database is not empty; restore into an empty database, or pass --force")
    if engine == "sqlite":
        connection.ensure_connection()
        target: Any = connection.connection
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(target)
        finally:
            source.close()
        connections.close_all()
    else:
        args, env = _pg_env()
        name = str(connection.settings_dict["NAME"])
        connections.close_all()
        result = subprocess.run(  # noqa: S603 - fixed argument list from settings, no shell
            [
                _tool("pg_restore"),
                "--no-owner",
                "--clean",
                "--if-exists",
                "--single-transaction",
                *args,
                "--dbname",
                name,
                str(path),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    return table_counts()
