"""Telemetry, checks and labs in: validation against plausibility ranges, bulk insert, one batch per call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from ecmo_web.kernel import actor_name, audit, require
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import rollup
from ecmo_web.surveillance.actions.evaluate import evaluate_run
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
    earliest = run.started_at - SAMPLE_BEFORE_RUN
    latest = now + SAMPLE_AHEAD_OF_NOW
    if run.ended_at is not None:
        latest = min(latest, run.ended_at + SAMPLE_AFTER_RUN)
    for i, item in enumerate(samples):
        try:
            sample = _coerce_sample(i, item, source)
        except InputError as error:
            field_name = error.field if error.field.startswith("samples[") else f"samples[{i}].{error.field}"
            errors.setdefault(field_name, []).append(error.message)
        else:
            if not earliest <= sample.observed_at <= latest:
                errors.setdefault(f"samples[{i}].observed_at", []).append(
                    f"{sample.observed_at:%Y-%m-%d %H:%M} UTC is outside the run ({run.started_at:%Y-%m-%d %H:%M} "
                    f"UTC − 48 h to {'now + 24 h' if run.ended_at is None else 'its end + 48 h'})"
                )
            else:
                checked.append(sample)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationError(errors)
    return checked


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
    """Insert sample rows (in ``_SAMPLE_COLUMNS`` order) with one prepared statement, skipping any that already exist.

    A plain executemany: the ORM's bulk_create spends most of its time preparing each field of each object, which
    matters for a console export or the demo (10⁵ rows). ``ON CONFLICT DO NOTHING`` keeps it idempotent under a
    concurrent writer on SQLite (≥ 3.24) and PostgreSQL alike.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    adapt: Any = connection.ops.adapt_datetimefield_value
    # Identifiers come from the model's own metadata and values are bound parameters: nothing user-supplied here.
    columns = ", ".join(qn(c) for c in _SAMPLE_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_SAMPLE_COLUMNS))
    sql = (
        f"INSERT INTO {qn(Sample._meta.db_table)} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"  # noqa: S608
    )
    if connection.vendor == "sqlite":
        # What adapt_datetimefield_value does for an aware datetime, without its per-call checks (10⁵ rows).
        def adapt(value: dt.datetime) -> str:
            return str(value.astimezone(dt.UTC).replace(tzinfo=None))

    prepared = [(r[0], r[1], adapt(r[2]), r[3], r[4], adapt(r[5]), r[6], r[7]) for r in rows]
    with connection.cursor() as cursor:
        for i in range(0, len(prepared), 5000):
            cursor.executemany(sql, prepared[i : i + 5000])
    rollup.add_samples(rows)  # the minute and hour rollups, in the same transaction (surveillance/rollup.py)


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
    times = [s.observed_at for s in unique.values()]
    existing = set(
        Sample.objects.filter(
            run=run,
            parameter__in={k[0] for k in unique},
            source__in={k[2] for k in unique},
            observed_at__gte=min(times),
            observed_at__lte=max(times),
        ).values_list("parameter", "observed_at", "source")
    )
    new = [s for key, s in unique.items() if key not in existing]
    batch_id = None if batch is None else batch.pk
    check_id = None if check is None else check.pk
    insert_sample_rows(
        [(run.pk, s.parameter, s.observed_at, s.value, s.source, now, batch_id, check_id) for s in new]
    )
    return new, len(samples) - len(new)


@transaction.atomic
def ingest_samples(
    *,
    actor_or_system: Any,
    run: EcmoRun,
    samples: Iterable[Any],
    source: str | None = None,
    batch_ref: str = "",
    kind: str = IngestBatch.Kind.API,
    now: dt.datetime | None = None,
    evaluate: bool = True,
) -> IngestResult:
    """Store a batch of telemetry idempotently and evaluate the run.

    ``samples``: ``ecmo_core`` ``Sample`` objects or mappings ``{"observed_at", "parameter", "value", "source"}``.
    ``source``: the name for samples whose source is the generic ``"device"`` (e.g. ``"console"`` or
    ``"hl7:0A1B…"``); hand-entered sources such as ``"check"`` or ``"lab"`` are kept. ``batch_ref``: the batch's
    identity at its origin (HL7 ``app|control_id``, a file's SHA-256); a batch already stored under the same
    (run, kind, ref) adds nothing. Bad input raises ``ValidationError`` naming ``samples[i].field`` with the
    parameter and its accepted range; nothing is written.
    """
    require(actor_or_system, "sample.ingest", run)
    now = now or timezone.now()
    checked = validate_samples(run, samples, source=source, now=now)
    if batch_ref and IngestBatch.objects.filter(run=run, kind=kind, ref=batch_ref).exists():
        return IngestResult(0, len(checked))
    if not checked:
        return IngestResult(0, 0)
    batch = IngestBatch.objects.create(
        run=run, kind=kind, ref=batch_ref, actor_name=actor_name(actor_or_system), received_at=now
    )
    created, duplicates = _write_samples(run, checked, batch=batch, now=now)
    if not created:
        # Nothing new: the batch record would only say "a replay happened"; drop it so a replay adds nothing.
        batch.delete()
        return IngestResult(0, duplicates)
    batch.created_count, batch.duplicate_count = len(created), duplicates
    batch.save(update_fields=["created_count", "duplicate_count"])
    times = [s.observed_at for s in created]
    audit(
        actor_or_system,
        action="samples.ingested",
        obj=batch,
        after={
            "kind": kind,
            "ref": batch_ref,
            "created": len(created),
            "duplicates": duplicates,
            "parameters": sorted({s.parameter for s in created}),
            "sources": sorted({s.source for s in created}),
            "from": min(times),
            "to": max(times),
        },
    )
    transitions = evaluate_run(run, now=now, replay_from=min(times)) if evaluate else []
    return IngestResult(len(created), duplicates, batch, transitions)
