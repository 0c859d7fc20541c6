"""Fail (exit 1) with a clear message unless the PostgreSQL in DATABASE_URL answers. CI must not skip that leg."""

from __future__ import annotations

import os
import sys

import dj_database_url
import psycopg

url = os.environ.get("DATABASE_URL", "")
if not url.startswith("postgres"):
    sys.exit("DATABASE_URL must point at PostgreSQL for this leg")
cfg = dj_database_url.parse(url)
try:
    with psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        dbname=cfg["NAME"],
        password=cfg["PASSWORD"] or None,
        connect_timeout=5,
    ) as conn:
        version = conn.execute("select version()").fetchone()
except psycopg.OperationalError as exc:
    sys.exit(
        f"PostgreSQL at {cfg['HOST']}:{cfg['PORT']} is unreachable ({exc}); the PostgreSQL leg cannot be skipped"
    )
print(f"PostgreSQL reachable: {version[0] if version else '?'}")
