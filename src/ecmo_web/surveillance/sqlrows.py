"""Multi-row INSERT statements for the write paths that run once per message group or batch (the HL7 listener, ingest).

One statement per table instead of an ``executemany`` of one-row statements: on PostgreSQL psycopg sends an
``executemany`` as one statement per row (pipelined, but each parsed, planned and answered by the server), which for
a group of HL7 messages meant about a hundred statements per commit. On PostgreSQL the rows travel as one array per
column (``INSERT … SELECT * FROM unnest(%s::type[], …)``): a short statement with a parameter per column, which the
driver converts once and caches, where ``VALUES (…), (…)`` would be a new, long statement of hundreds of parameters
to parse on every call. On SQLite, ``VALUES (…), (…)``, cut so that no statement binds more parameters than allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


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


def insert(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    tail: str = "",
    *,
    fetch: bool = False,
) -> list[tuple[Any, ...]]:
    """``INSERT INTO <model's table> (columns) <rows> tail`` in as few statements as allowed; with ``fetch``, the
    rows the statements return (``tail`` then holds the RETURNING clause).

    ``columns`` are the model's column names, ``rows`` values in that order (datetimes through
    :func:`datetime_adapter`), ``tail`` SQL built by the caller from model metadata (ON CONFLICT, RETURNING): every
    value is a bound parameter.
    """
    if not rows:
        return []
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)})"
    end = f" {tail}" if tail else ""
    fetched: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            fields = {f.column: f for f in model._meta.concrete_fields}
            arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in columns)
            # Table, column and type names come from the model; the values are bound, one array per column.
            sql = f"{head} SELECT * FROM unnest({arrays}){end}"  # noqa: S608
            values = [list(column) for column in zip(*rows, strict=True)]
            for i, name in enumerate(columns):
                if fields[name].get_internal_type() == "FloatField":
                    # psycopg dumps a list of one Python type only (a reading may come as 3400 beside 4.8).
                    values[i] = [None if v is None else float(v) for v in values[i]]
            cursor.execute(sql, values)
            return list(cursor.fetchall()) if fetch else []
        width = len(columns)
        per_statement = max(1, max_parameters() // width)
        row_sql = f"({', '.join(['%s'] * width)})"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"{head} VALUES {', '.join([row_sql] * len(chunk))}{end}",
                [value for row in chunk for value in row],
            )
            if fetch:
                fetched += cursor.fetchall()
    return fetched
