"""Per-minute and per-hour rollups of the samples (``SampleRollup``), so that long spans read few rows.

Every way samples are written (API batches, CSV files, HL7 messages, hourly checks, labs, the demo) goes through
``actions.insert_sample_rows``, which calls :func:`add_samples` with the rows it has just inserted, in the same
transaction: each (run, parameter, minute) and (run, parameter, hour) touched gets its count, sum, lowest and
highest value and its first and last time merged in by one ``INSERT … ON CONFLICT DO UPDATE`` (SQLite ≥ 3.24 and
PostgreSQL alike). Lowest and highest cannot be taken back, so samples that are removed (a check amended) go
through :func:`remove_samples`, which rebuilds the hours they touched from the samples themselves. The migration
that created the table ran :func:`rebuild` once over every stored sample (two ``INSERT … SELECT … GROUP BY``).

:func:`read` is what charts use: whole buckets of one width inside a span. See docs/surveillance.md, "Rollups".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import F

from ecmo_web.surveillance import sqlrows

MINUTE, HOUR = 60, 3600
TIERS = (MINUTE, HOUR)
"""The widths kept, in seconds."""

_COLUMNS = ("run_id", "parameter", "width_s", "bucket", "n", "total", "low", "high", "first_at", "last_at")
_KEY = ("run_id", "parameter", "width_s", "bucket")


def _table(model: Any = None) -> str:
    if model is None:
        from ecmo_web.surveillance.models import SampleRollup

        model = SampleRollup
    return str(connection.ops.quote_name(model._meta.db_table))


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def add_samples(rows: Iterable[Sequence[Any]]) -> None:
    """Merge samples just inserted into the rollups. ``rows``: ``(run_id, parameter, observed_at, value, …)``
    (aware datetimes; anything after the fourth item is ignored, so the rows of ``insert_sample_rows`` do).

    Call it in the transaction that inserted the rows, once per sample: a sample counted twice would count twice.
    One upsert statement per call (rows sorted by key, so concurrent writers take row locks in the same order).
    """
    minutes: dict[tuple[int, str, int], list[Any]] = {}
    for row in rows:
        run_id, parameter, at, value = row[0], row[1], row[2], float(row[3])
        t = at.timestamp()
        key = (run_id, parameter, int(t // MINUTE) * MINUTE)
        a = minutes.get(key)
        if a is None:
            minutes[key] = [1, value, value, value, t, at, t, at]
            continue
        a[0] += 1
        a[1] += value
        if value < a[2]:
            a[2] = value
        elif value > a[3]:
            a[3] = value
        if t < a[4]:
            a[4], a[5] = t, at
        if t > a[6]:
            a[6], a[7] = t, at
    if not minutes:
        return
    hours: dict[tuple[int, str, int], list[Any]] = {}
    for (run_id, parameter, minute), a in minutes.items():
        key = (run_id, parameter, minute // HOUR * HOUR)
        h = hours.get(key)
        if h is None:
            hours[key] = list(a)
            continue
        h[0] += a[0]
        h[1] += a[1]
        h[2], h[3] = min(h[2], a[2]), max(h[3], a[3])
        if a[4] < h[4]:
            h[4], h[5] = a[4], a[5]
        if a[6] > h[6]:
            h[6], h[7] = a[6], a[7]
    adapt = sqlrows.datetime_adapter()
    upserts = [
        (run_id, parameter, width, adapt(_utc(start)), a[0], a[1], a[2], a[3], adapt(a[5]), adapt(a[7]))
        for width, tier in ((MINUTE, minutes), (HOUR, hours))
        for (run_id, parameter, start), a in sorted(tier.items())
    ]
    _upsert(upserts)


def _upsert(rows: list[tuple[Any, ...]]) -> None:
    table = _table()
    qn = connection.ops.quote_name
    least, greatest = ("MIN", "MAX") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
    merged = ", ".join(
        [
            f"n = {table}.n + excluded.n",
            f"total = {table}.total + excluded.total",
            f"low = {least}({table}.low, excluded.low)",
            f"high = {greatest}({table}.high, excluded.high)",
            f"first_at = {least}({table}.first_at, excluded.first_at)",
            f"last_at = {greatest}({table}.last_at, excluded.last_at)",
        ]
    )
    # Identifiers come from the model's metadata and values are bound parameters: nothing user-supplied here. One
    # multi-row statement (each key occurs once in ``rows``, as ON CONFLICT DO UPDATE requires; in key order).
    from ecmo_web.surveillance.models import SampleRollup

    sqlrows.insert(
        SampleRollup,
        _COLUMNS,
        rows,
        f"ON CONFLICT ({', '.join(qn(c) for c in _KEY)}) DO UPDATE SET {merged}",
    )


def remove_samples(rows: Iterable[Sequence[Any]]) -> None:
    """After samples ``(run_id, parameter, observed_at, …)`` were deleted: rebuild every hour they were in."""
    spans: dict[tuple[int, str], tuple[dt.datetime, dt.datetime]] = {}
    for row in rows:
        key, at = (row[0], row[1]), row[2]
        low, high = spans.get(key, (at, at))
        spans[key] = (min(low, at), max(high, at))
    for (run_id, parameter), (since, until) in spans.items():
        rebuild(run_id=run_id, parameters=[parameter], since=since, until=until)


def _truncate(column: str, width: int) -> str:
    """SQL for the start of the minute or hour of a datetime column (text on SQLite, timestamptz on PostgreSQL)."""
    if connection.vendor == "sqlite":
        # "%%": the driver's parameter style; Django turns it back into "%" when parameters are bound.
        pattern = "%%Y-%%m-%%d %%H:%%M:00" if width == MINUTE else "%%Y-%%m-%%d %%H:00:00"
        return f"strftime('{pattern}', {column})"
    return f"date_trunc('{'minute' if width == MINUTE else 'hour'}', {column})"


def rebuild(
    *,
    run_id: int | None = None,
    parameters: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    sample_model: Any = None,
    rollup_model: Any = None,
) -> None:
    """Recompute the rollups from the samples: of one run (or all), some parameters (or all), the whole hours
    around [since, until] (or all time). Two ``INSERT … SELECT … GROUP BY`` statements, after deleting what they
    replace. The migration passes its historical models."""
    if sample_model is None:
        from ecmo_web.surveillance.models import Sample

        sample_model = Sample
    table, samples = _table(rollup_model), str(connection.ops.quote_name(sample_model._meta.db_table))
    adapt: Any = connection.ops.adapt_datetimefield_value
    where: list[str] = []
    params: list[Any] = []
    if run_id is not None:
        where.append("run_id = %s")
        params.append(run_id)
    if parameters is not None:
        where.append(f"parameter IN ({', '.join(['%s'] * len(parameters))})")
        params.extend(parameters)
    bounds: list[Any] = []
    if since is not None and until is not None:
        start = int(since.timestamp() // HOUR * HOUR)
        end = int(until.timestamp() // HOUR * HOUR) + HOUR
        bounds = [adapt(_utc(start)), adapt(_utc(end))]

    def clause(column: str) -> tuple[str, list[Any]]:
        parts = [*where, *([f"{column} >= %s", f"{column} < %s"] if bounds else [])]
        return (f" WHERE {' AND '.join(parts)}" if parts else ""), [*params, *bounds]

    # Identifiers come from the models' metadata and values are bound parameters: nothing user-supplied here.
    with connection.cursor() as cursor:
        delete_where, delete_params = clause("bucket")
        cursor.execute(f"DELETE FROM {table}{delete_where}", delete_params)  # noqa: S608
        columns = ", ".join(_COLUMNS)
        minute = _truncate("observed_at", MINUTE)
        sample_where, sample_params = clause("observed_at")
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT run_id, parameter, {MINUTE}, {minute}, COUNT(*), "  # noqa: S608
            f"SUM(value), MIN(value), MAX(value), MIN(observed_at), MAX(observed_at) FROM {samples}"
            f"{sample_where} GROUP BY run_id, parameter, {minute}",
            sample_params,
        )
        hour = _truncate("bucket", HOUR)
        minute_where, minute_params = clause("bucket")
        minute_where = f"{minute_where} AND width_s = %s" if minute_where else " WHERE width_s = %s"
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT run_id, parameter, {HOUR}, {hour}, SUM(n), "  # noqa: S608
            f"SUM(total), MIN(low), MAX(high), MIN(first_at), MAX(last_at) FROM {table}"
            f"{minute_where} GROUP BY run_id, parameter, {hour}",
            [*minute_params, MINUTE],
        )


def covered(since: dt.datetime, until: dt.datetime, width_s: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end): the whole buckets of ``width_s`` that lie in [since, until] (end ≤ start: none)."""
    start = math.ceil(since.timestamp() / width_s) * width_s
    end = math.floor(until.timestamp() / width_s) * width_s
    return _utc(start), _utc(end)


def read(
    run_id: int, parameters: Sequence[str], *, width_s: int, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, float, int, float, float, float, float, float]]:
    """The ``width_s`` rollups of ``parameters`` whose bucket lies wholly in [since, until], by parameter and
    time: ``(parameter, bucket start, n, total, low, high, first, last)``, times in seconds since the epoch
    (computed in SQL, to the millisecond: a month is thousands of rows). One query on the unique index."""
    from ecmo_web.surveillance.models import SampleRollup
    from ecmo_web.surveillance.queries import _Epoch

    start, end = covered(since, until, width_s)
    if end <= start:
        return []
    return list(
        SampleRollup.objects.filter(
            run_id=run_id,
            parameter__in=list(parameters),
            width_s=width_s,
            bucket__gte=start,
            bucket__lt=end,
        )
        .order_by("parameter", "bucket")
        .annotate(start_s=_Epoch(F("bucket")), first_s=_Epoch(F("first_at")), last_s=_Epoch(F("last_at")))
        .values_list("parameter", "start_s", "n", "total", "low", "high", "first_s", "last_s")
    )
