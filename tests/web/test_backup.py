"""``ecmo backup FILE`` and ``ecmo restore FILE`` (issue: reliability and security, item 5).

On the database engine of the test leg (SQLite on the SQLite leg, PostgreSQL on the PostgreSQL leg), as an
operator would run them, in separate processes:
- a database holding the demo is backed up while it is open; the file is whole (no ``.partial`` left)
- restored into an empty database, every table has the same row count and the audit chain verifies
- a restore into a database that already holds data is refused (exit non-zero, nothing changed) unless --force
- a file that is not a backup, or a backup of the other engine, is refused with the reason
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

ECMO = [sys.executable, "-c", "from ecmo_web.cli import main; raise SystemExit(main())"]

pytestmark = pytest.mark.django_db


def _ecmo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ECMO, *args], env=env, capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Two fresh databases of this leg's engine: a source and an empty target."""
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ECMO_TEST_DB_SUFFIX"}}
    if connection.vendor == "sqlite":
        source = {**base, "ECMO_VAR_DIR": str(tmp_path / "source")}
        target = {**base, "ECMO_VAR_DIR": str(tmp_path / "target")}
        yield source, target
        return
    settings = connection.settings_dict
    server = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    names = [f"ecmo_backup_{uuid.uuid4().hex[:10]}_{side}" for side in ("source", "target")]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield tuple(  # type: ignore[misc]
            {**base, "ECMO_VAR_DIR": str(tmp_path / name), "DATABASE_URL": f"{server}/{name}"}
            for name in names
        )
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _counts(env: dict[str, str]) -> dict[str, int]:
    script = (
        "import django, json; django.setup(); from ecmo_web.backup import table_counts; "
        "print(json.dumps(table_counts().rows))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "ecmo_web.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    return dict(json.loads(result.stdout))


def test_it_restores_a_backup_into_an_empty_database(databases: Any, tmp_path: Path) -> None:
    source, target = databases
    assert _ecmo(source, "migrate", "--no-input", "-v", "0").returncode == 0
    seeded = _ecmo(source, "seed-demo", "--password", "restore-test-pw")
    assert seeded.returncode == 0, seeded.stderr
    before = _counts(source)
    # five runs in "Demo", one in "Demo (SI units)"
    assert before["audit_auditevent"] > 100 and before["runs_ecmorun"] == 6

    file = tmp_path / "ecmo.backup"
    made = _ecmo(source, "backup", str(file))
    assert made.returncode == 0, made.stderr
    assert file.is_file() and not file.with_name(file.name + ".partial").exists()

    restored = _ecmo(target, "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert "audit chain intact" in restored.stdout
    assert _counts(target) == before
    verified = _ecmo(target, "audit", "verify")
    assert verified.returncode == 0 and f"{before['audit_auditevent']} events" in verified.stdout

    again = _ecmo(target, "restore", str(file))
    assert again.returncode != 0 and "not empty" in again.stderr
    assert _counts(target) == before
    forced = _ecmo(target, "restore", str(file), "--force")
    assert forced.returncode == 0, forced.stderr
    assert _counts(target) == before


def test_it_refuses_a_file_that_is_not_a_backup(databases: Any, tmp_path: Path) -> None:
    _, target = databases
    junk = tmp_path / "notes.txt"
    junk.write_text("MSH|^~\\&|not a backup\r")
    result = _ecmo(target, "restore", str(junk))
    assert result.returncode != 0 and "neither" in result.stderr
    missing = _ecmo(target, "restore", str(tmp_path / "absent.backup"))
    assert missing.returncode != 0 and "no backup file" in missing.stderr


def test_it_refuses_a_backup_of_the_other_engine(databases: Any, tmp_path: Path) -> None:
    _, target = databases
    other = tmp_path / "other.backup"
    other.write_bytes(
        b"PGDMP" + b"\0" * 64 if connection.vendor == "sqlite" else b"SQLite format 3\x00" + b"\0" * 64
    )
    result = _ecmo(target, "restore", str(other))
    assert result.returncode != 0 and "backup but the configured database is" in result.stderr
