"""Multi-row statements for the write paths that run once per message group or batch (the HL7 listener, ingest).

``INSERT … VALUES (…), (…), …`` as one statement instead of an ``executemany`` of one-row statements: on
PostgreSQL psycopg sends an ``executemany`` as one statement per row (pipelined, but each parsed, planned and
answered by the server), which for a group of HL7 messages meant about a hundred statements per commit; one
multi-row statement per table is one round trip. On SQLite both cost about the same. Statements are cut so that
none binds more parameters than the driver allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


def max_parameters() -> int:
    """The most parameters one statement may bind on this connection (SQLite: Django's 999; PostgreSQL: 65 535)."""
    return int(connection.features.max_query_params or 65535)


def datetime_adapter() -> Callable[[dt.datetime], Any]:
    """What ``connection.ops.adapt_datetimefield_value`` does for an aware datetime, without its per-call checks:
    on SQLite the UTC text Django stores (memoised: a group binds the same few times many times); on PostgreSQL
    the value itself (psycopg adapts it)."""
    if connection.vendor != "sqlite":
        return _same
    adapted: dict[dt.datetime, str] = {}

    def adapt(value: dt.datetime) -> str:
        text = adapted.get(value)
        if text is None:
            text = adapted[value] = str(value.astimezone(dt.UTC).replace(tzinfo=None))
        return text

    return adapt


def _same(value: dt.datetime) -> dt.datetime:
    return value


def execute_values(
    head: str, rows: Sequence[Sequence[Any]], tail: str = "", *, fetch: bool = False
) -> list[tuple[Any, ...]]:
    """Run ``head VALUES (%s, …), (%s, …) … tail`` over ``rows`` (all of one width), as few statements as the
    parameter limit allows; with ``fetch``, the rows the statements return (``tail`` holds the RETURNING clause).

    ``head`` and ``tail`` are SQL built from model metadata by the caller; every value is a bound parameter.
    """
    if not rows:
        return []
    width = len(rows[0])
    per_statement = max(1, max_parameters() // width)
    row_sql = f"({', '.join(['%s'] * width)})"
    fetched: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"{head} VALUES {', '.join([row_sql] * len(chunk))}{' ' + tail if tail else ''}",
                [value for row in chunk for value in row],
            )
            if fetch:
                fetched += cursor.fetchall()
    return fetched
