"""Telemetry, checks and labs in: validation against plausibility ranges, bulk insert, one batch per call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ecmo_core.errors import InputError
from ecmo_core.surveillance import (
    PARAMETERS,
)
from ecmo_core.surveillance import (
    Sample as CoreSample,
)
from ecmo_core.surveillance.parameters import FLAG, FRACTION
from ecmo_web.kernel import actor_name, audit, require
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import rollup, sqlrows
from ecmo_web.surveillance.actions.evaluate import evaluate_run, lock_evaluation
from ecmo_web.surveillance.models import (
    DEVICE,
    AlertTransition,
    CircuitCheck,
    IngestBatch,
    Sample,
)

# Telemetry may include pre-ECMO gases and labs, and a console clock may run ahead (demo-scenarios §9); values
# further outside the run than this are refused as belonging to another patient or a wrong clock.
SAMPLE_BEFORE_RUN = dt.timedelta(hours=48)
SAMPLE_AFTER_RUN = dt.timedelta(hours=48)
SAMPLE_AHEAD_OF_NOW = dt.timedelta(hours=24)
MAX_ERRORS = 50


@dataclass
class IngestResult:
    created: int
    duplicates: int
    batch: IngestBatch | None = None
    transitions: list[AlertTransition] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "duplicates": self.duplicates}


def _coerce_sample(index: int, item: Any, default_source: str | None) -> CoreSample:
    """A core ``Sample`` from a core sample or a mapping; ``InputError`` names ``samples[i].field``."""
    if isinstance(item, CoreSample):
        sample = item
    elif isinstance(item, Mapping):
        missing = [k for k in ("observed_at", "parameter", "value") if item.get(k) is None]
        if missing:
            raise InputError(f"samples[{index}].{missing[0]}", "is required")
        observed_at = item["observed_at"]
        if isinstance(observed_at, str):
            try:
                observed_at = dt.datetime.fromisoformat(observed_at.strip().replace("Z", "+00:00"))
            except ValueError:
                raise InputError(
                    f"samples[{index}].observed_at", f"{observed_at!r} is not an ISO 8601 date and time"
                ) from None
        try:
            sample = CoreSample(observed_at, item["parameter"], item["value"], item.get("source") or DEVICE)
        except InputError as error:
            # ecmo_core names a bad value by its parameter code; the API field is "value".
            name = "value" if error.field == item.get("parameter") else error.field
            raise InputError(f"samples[{index}].{name}", _describe(item.get("parameter"), error)) from None
    else:
        raise InputError(f"samples[{index}]", f"must be a sample, got {type(item).__name__}")
    if default_source and sample.source == DEVICE:
        sample = CoreSample(sample.observed_at, sample.parameter, sample.value, default_source)
    return sample


def _describe(parameter: Any, error: InputError) -> str:
    """An error message that names the parameter and, for values, its accepted range and unit."""
    if error.field == "value" or error.field == parameter:
        spec = PARAMETERS.get(parameter) if isinstance(parameter, str) else None
        if spec is not None:
            return f"{parameter}: {error.message} (accepted {spec.minimum:g} to {spec.maximum:g} {spec.unit})"
    return error.message


def validate_samples(
    run: EcmoRun, samples: Iterable[Any], *, source: str | None, now: dt.datetime
) -> list[CoreSample]:
    """Every sample checked (code, plausible value, aware time within the run); all errors in one ValidationError."""
    checked: list[CoreSample] = []
    errors: dict[str, list[str]] = {}
    earliest, latest = _window(run, now)
    for i, item in enumerate(samples):
        try:
            sample = _coerce_sample(i, item, source)
        except InputError as error:
            field_name = error.field if error.field.startswith("samples[") else f"samples[{i}].{error.field}"
            errors.setdefault(field_name, []).append(error.message)
        else:
            if not earliest <= sample.observed_at <= latest:
                errors.setdefault(f"samples[{i}].observed_at", []).append(_outside(run, sample.observed_at))
            else:
                checked.append(sample)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationError(errors)
    return checked


def _list_field(index: int, name: str) -> str:
    return f"samples[{index}].{name}" if name else f"samples[{index}]"


@dataclass(frozen=True)
class SampleColumns:
    """A batch held as columns: row ``i`` is (``observed_at[i]``, ``parameter[i]``, ``value[i]``, ``source[i]``).

    ``field(i, name)`` names row ``i``'s field ``name`` ("observed_at", "parameter", "value", "source") in errors:
    ``samples[i].value`` for the API's list form, ``columns.values.<code>[t]`` for its columnar form."""

    observed_at: Sequence[Any]
    parameter: Sequence[Any]
    value: Sequence[Any]
    source: Sequence[Any]
    field: Callable[[int, str], str] = _list_field

    def __len__(self) -> int:
        return len(self.parameter)


Row = tuple[str, dt.datetime, float, str]  # (parameter, observed_at in UTC, value, source)
_MISSING = object()


def _window(run: EcmoRun, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    latest = now + SAMPLE_AHEAD_OF_NOW
    if run.ended_at is not None:
        latest = min(latest, run.ended_at + SAMPLE_AFTER_RUN)
    return run.started_at - SAMPLE_BEFORE_RUN, latest


def validate_columns(
    run: EcmoRun, columns: SampleColumns, *, source: str | None, now: dt.datetime
) -> list[Row]:
    """:func:`validate_samples` for a batch held as columns, with the same outcome and the same errors, set-based.

    Each distinct time is parsed once; each parameter's values are range-checked at once (NumPy); sources are
    checked once each. Only the rows that fail a check go through the row-by-row checks, which word the error
    (the field, the value, the accepted range and unit); all errors in one ValidationError, nothing written."""
    n = len(columns)
    earliest, latest = _window(run, now)
    times: dict[Any, dt.datetime | None] = {}
    at: list[dt.datetime | None] = []
    for raw in columns.observed_at:
        found = times.get(raw, _MISSING) if isinstance(raw, str | dt.datetime) else None
        if found is _MISSING:
            found = times[raw] = _quick_time(raw, earliest, latest)
        at.append(found)  # type: ignore[arg-type]
    bad = [t is None for t in at]
    rows_of: dict[str, list[int]] = {}
    for i, parameter in enumerate(columns.parameter):
        if isinstance(parameter, str) and parameter in PARAMETERS:
            rows_of.setdefault(parameter, []).append(i)
        else:
            bad[i] = True
    values: list[float] = [0.0] * n
    for parameter, rows in rows_of.items():
        spec = PARAMETERS[parameter]
        raw_values = [columns.value[i] for i in rows]
        array = np.array(
            [v if type(v) is float or type(v) is int else np.nan for v in raw_values], dtype=np.float64
        )
        ok = np.isfinite(array) & (array >= spec.minimum) & (array <= spec.maximum)
        if spec.unit == FRACTION:
            ok &= (array >= 0.0) & (array <= 1.0)
        elif spec.unit == FLAG:
            ok &= (array == 0.0) | (array == 1.0)
        for j in np.flatnonzero(~ok).tolist():
            bad[rows[j]] = True
        for i, value in zip(rows, array.tolist(), strict=True):
            values[i] = value
    sources: dict[Any, str | None] = {}
    named: list[str] = []
    for i, raw in enumerate(columns.source):
        key = raw or DEVICE
        name = sources.get(key, _MISSING) if isinstance(key, str) else None
        if name is _MISSING:
            ok_source = isinstance(key, str) and bool(key.strip()) and len(key) <= 64
            name = sources[key] = (source if source and key == DEVICE else key) if ok_source else None
        if name is None:
            bad[i] = True
            named.append("")
        else:
            named.append(name)  # type: ignore[arg-type]
    if not any(bad):
        return [
            (columns.parameter[i], at[i], values[i], named[i])  # type: ignore[misc]
            for i in range(n)
        ]
    # Some rows fail: word their errors exactly as the row-by-row checks do (and keep any row those accept).
    errors: dict[str, list[str]] = {}
    rescued: dict[int, CoreSample] = {}
    for i in (i for i in range(n) if bad[i]):
        item = {
            "observed_at": columns.observed_at[i],
            "parameter": columns.parameter[i],
            "value": columns.value[i],
            "source": columns.source[i],
        }
        try:
            sample = _coerce_sample(i, item, source)
        except InputError as error:
            name = error.field if error.field.startswith("samples[") else _list_field(i, error.field)
            errors.setdefault(columns.field(i, name.removeprefix(f"samples[{i}]").lstrip(".")), []).append(
                error.message
            )
        else:
            if earliest <= sample.observed_at <= latest:
                rescued[i] = sample
            else:
                errors.setdefault(columns.field(i, "observed_at"), []).append(
                    _outside(run, sample.observed_at)
                )
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationError(errors)
    return [
        (s.parameter, s.observed_at, s.value, s.source)
        if (s := rescued.get(i)) is not None
        else (columns.parameter[i], at[i], values[i], named[i])  # type: ignore[misc]
        for i in range(n)
    ]


def _quick_time(raw: Any, earliest: dt.datetime, latest: dt.datetime) -> dt.datetime | None:
    """An aware UTC time within the window, or None (the row checks then word the error)."""
    if isinstance(raw, str):
        try:
            raw = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(raw, dt.datetime) or raw.tzinfo is None or raw.utcoffset() is None:
        return None
    when = raw.astimezone(dt.UTC)
    return when if earliest <= when <= latest else None


def _outside(run: EcmoRun, at: dt.datetime) -> str:
    return (
        f"{at:%Y-%m-%d %H:%M} UTC is outside the run ({run.started_at:%Y-%m-%d %H:%M} "
        f"UTC − 48 h to {'now + 24 h' if run.ended_at is None else 'its end + 48 h'})"
    )


_SAMPLE_COLUMNS = (
    "run_id",
    "parameter",
    "observed_at",
    "value",
    "source",
    "received_at",
    "batch_id",
    "check_record_id",
)


def insert_sample_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert sample rows (in ``_SAMPLE_COLUMNS`` order), skipping any that already exist.

    Not the ORM's bulk_create, which spends most of its time preparing each field of each object (a console export
    or the demo is 10⁵ rows): on SQLite one prepared statement run by ``executemany``; on PostgreSQL one ``INSERT``
    of the rows as arrays (``sqlrows.insert``; psycopg would send an ``executemany`` as a statement per row) or,
    from 2 000 rows, ``COPY``.
    ``ON CONFLICT DO NOTHING`` keeps it idempotent under a concurrent writer on SQLite (≥ 3.24) and PostgreSQL alike.
    """
    if not rows:
        return
    if connection.vendor == "sqlite":
        qn = connection.ops.quote_name
        # Identifiers come from the model's own metadata and values are bound parameters: nothing user-supplied.
        head = f"INSERT INTO {qn(Sample._meta.db_table)} ({', '.join(qn(c) for c in _SAMPLE_COLUMNS)})"
        adapt = sqlrows.datetime_adapter()
        prepared = [(r[0], r[1], adapt(r[2]), r[3], r[4], adapt(r[5]), r[6], r[7]) for r in rows]
        placeholders = ", ".join(["%s"] * len(_SAMPLE_COLUMNS))
        with connection.cursor() as cursor:
            for i in range(0, len(prepared), 5000):
                cursor.executemany(
                    f"{head} VALUES ({placeholders}) ON CONFLICT DO NOTHING", prepared[i : i + 5000]
                )
    elif len(rows) >= _COPY_FROM and _has_copy():
        _copy_sample_rows(rows)
    else:
        sqlrows.insert(Sample, _SAMPLE_COLUMNS, rows, "ON CONFLICT DO NOTHING")
    rollup.add_samples(rows)  # the minute and hour rollups, in the same transaction (surveillance/rollup.py)


_COPY_FROM = 2000  # rows: from this size on PostgreSQL, COPY into a temporary table, then one INSERT … SELECT


def _has_copy() -> bool:
    """PostgreSQL through psycopg 3 (whose cursors have ``copy``); psycopg2 keeps the executemany."""
    driver = getattr(
        connection, "Database", None
    )  # the backend's DB-API module (a backend attribute, not a base one)
    return connection.vendor == "postgresql" and getattr(driver, "__name__", "") == "psycopg"


def _copy_sample_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL with psycopg 3: COPY the rows into a temporary table and insert them from there with one
    statement (``ON CONFLICT DO NOTHING`` keeps it idempotent, which COPY alone is not)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in _SAMPLE_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS ecmo_sample_in (run_id bigint, parameter varchar(60), "
            "observed_at timestamptz, value double precision, source varchar(64), received_at timestamptz, "
            "batch_id bigint, check_record_id bigint) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY ecmo_sample_in ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {qn(Sample._meta.db_table)} ({columns}) SELECT {columns} FROM ecmo_sample_in "  # noqa: S608 - names from the model
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute("DROP TABLE ecmo_sample_in")


def _stored_keys(run: EcmoRun, keys: Iterable[tuple[str, dt.datetime, str]]) -> set[tuple[Any, ...]]:
    """Which of ``keys`` — (parameter, observed_at, source) — the run already holds: one indexed read."""
    keys = list(keys)
    times = [key[1] for key in keys]
    return set(
        Sample.objects.filter(
            run=run,
            parameter__in={k[0] for k in keys},
            source__in={k[2] for k in keys},
            observed_at__gte=min(times),
            observed_at__lte=max(times),
        ).values_list("parameter", "observed_at", "source")
    )


def _write_samples(
    run: EcmoRun,
    samples: Sequence[CoreSample],
    *,
    batch: IngestBatch | None,
    now: dt.datetime,
    check: CircuitCheck | None = None,
) -> tuple[list[CoreSample], int]:
    """Insert the samples not yet stored; returns (created, duplicates). One read, one prepared insert."""
    if not samples:
        return [], 0
    unique: dict[tuple[str, dt.datetime, str], CoreSample] = {}
    for s in samples:
        unique.setdefault((s.parameter, s.observed_at, s.source), s)
    existing = _stored_keys(run, unique)
    new = [s for key, s in unique.items() if key not in existing]
    batch_id = None if batch is None else batch.pk
    check_id = None if check is None else check.pk
    insert_sample_rows(
        [(run.pk, s.parameter, s.observed_at, s.value, s.source, now, batch_id, check_id) for s in new]
    )
    return new, len(samples) - len(new)


def _write_rows(
    run: EcmoRun, rows: Sequence[Row], *, batch: IngestBatch, now: dt.datetime
) -> tuple[list[Row], int]:
    """:func:`_write_samples` for validated rows: insert those not yet stored; returns (created, duplicates)."""
    unique: dict[tuple[str, dt.datetime, str], Row] = {}
    for row in rows:
        unique.setdefault((row[0], row[1], row[3]), row)
    existing = _stored_keys(run, unique)
    new = [row for key, row in unique.items() if key not in existing] if existing else list(unique.values())
    run_id, batch_id = run.pk, batch.pk
    insert_sample_rows([(run_id, p, at, v, src, now, batch_id, None) for p, at, v, src in new])
    return new, len(rows) - len(new)


@transaction.atomic
def ingest_samples(
    *,
    actor_or_system: Any,
    run: EcmoRun,
    samples: Iterable[Any] | SampleColumns,
    source: str | None = None,
    batch_ref: str = "",
    kind: str = IngestBatch.Kind.API,
    now: dt.datetime | None = None,
    evaluate: bool = True,
    queue_evaluation: bool = False,
) -> IngestResult:
    """Store a batch of telemetry idempotently and evaluate the run.

    ``samples``: ``ecmo_core`` ``Sample`` objects or mappings ``{"observed_at", "parameter", "value", "source"}``.
    ``source``: the name for samples whose source is the generic ``"device"`` (e.g. ``"console"`` or
    ``"hl7:0A1B…"``); hand-entered sources such as ``"check"`` or ``"lab"`` are kept. ``batch_ref``: the batch's
    identity at its origin (HL7 ``app|control_id``, a file's SHA-256); a batch already stored under the same
    (run, kind, ref) adds nothing. Bad input raises ``ValidationError`` naming ``samples[i].field`` with the
    parameter and its accepted range; nothing is written. A :class:`SampleColumns` batch is checked column-wise
    (:func:`validate_columns`: the same outcome and errors, set-based). ``queue_evaluation``: instead of evaluating
    here, record an evaluation request for the run in this transaction (``evaluation_queue``), for the caller to
    evaluate after the commit when due, or the evaluator to pick up.
    """
    require(actor_or_system, "sample.ingest", run)
    now = now or timezone.now()
    if isinstance(samples, SampleColumns):
        checked = validate_columns(run, samples, source=source, now=now)
    else:
        checked = [
            (s.parameter, s.observed_at, s.value, s.source)
            for s in validate_samples(run, samples, source=source, now=now)
        ]
    # .exclude(ref=""): repeats the partial unique index's condition, so that SQLite reads that index (one entry)
    # instead of every batch of the run.
    held = IngestBatch.objects.filter(run=run, kind=kind, ref=batch_ref).exclude(ref="")
    if batch_ref and held.exists():
        return IngestResult(0, len(checked))
    if not checked:
        return IngestResult(0, 0)
    batch = IngestBatch.objects.create(
        run=run, kind=kind, ref=batch_ref, actor_name=actor_name(actor_or_system), received_at=now
    )
    created, duplicates = _write_rows(run, checked, batch=batch, now=now)
    if not created:
        # Nothing new: the batch record would only say "a replay happened"; drop it so a replay adds nothing.
        batch.delete()
        return IngestResult(0, duplicates)
    batch.created_count, batch.duplicate_count = len(created), duplicates
    batch.save(update_fields=["created_count", "duplicate_count"])
    times = [row[1] for row in created]
    # Locks in the evaluators' order (request row, then cursor, then the audit chain head): the other order
    # deadlocked an API batch against the web server's evaluator on PostgreSQL (the crash test found it).
    if queue_evaluation:
        from ecmo_web.surveillance.evaluation_queue import request_evaluations

        request_evaluations([(run.pk, min(times))], now=now)
    elif evaluate:
        lock_evaluation(run)
    audit(
        actor_or_system,
        action="samples.ingested",
        obj=batch,
        after={
            "kind": kind,
            "ref": batch_ref,
            "created": len(created),
            "duplicates": duplicates,
            "parameters": sorted({row[0] for row in created}),
            "sources": sorted({row[3] for row in created}),
            "from": min(times),
            "to": max(times),
        },
    )
    if queue_evaluation:
        return IngestResult(len(created), duplicates, batch)
    transitions = evaluate_run(run, now=now, replay_from=min(times)) if evaluate else []
    return IngestResult(len(created), duplicates, batch, transitions)
