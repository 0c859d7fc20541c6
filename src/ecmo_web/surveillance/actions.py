"""Every write of circuit surveillance. Each action checks permission, validates, writes and appends an audit
event in one transaction; views, the API, the management commands, the demo seed and the HL7 listener call
these and nothing else.

``ingest_samples`` is the single way in for telemetry (API batches, CSV files, HL7 messages, labs): it validates
every value with ``ecmo_core``'s plausibility ranges, rejects the whole batch on the first bad value (nothing
half-written), stores only what is new (idempotent on run, parameter, observed_at, source), writes one audit
event per batch and then evaluates the run.

``evaluate_run`` runs the ``ecmo_core`` rules and stores alert *transitions* — only where a rule's state
changes — and never recomputes what is already stored: a run has an evaluation cursor, and moments before it
are history.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from ecmo_core.errors import InputError
from ecmo_core.replay import CsvInputError, read_wide_csv
from ecmo_core.surveillance import (
    PARAMETERS,
    Finding,
    check_value,
    config_from_mapping,
    evaluate,
)
from ecmo_core.surveillance import (
    Sample as CoreSample,
)
from ecmo_web.accounts.models import Program, Role
from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import SystemActor, actor_name, audit, aware, not_in_future, require, user_of
from ecmo_web.permissions import program_id_of
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.surveillance import hooks, notify
from ecmo_web.surveillance.evaluation import RunFacts, load_timeline
from ecmo_web.surveillance.models import (
    CHECK,
    CHECK_PARAMETERS,
    DEVICE,
    INSPECTION_FIELDS,
    SAFETY_FIELDS,
    SEVERITY_RANK,
    Alert,
    AlertLink,
    AlertStatus,
    AlertTransition,
    CircuitCheck,
    ClotFinding,
    ColourDifference,
    EvaluationCursor,
    IngestBatch,
    RuleState,
    Sample,
    SurveillanceSetting,
)

# --- actors ---------------------------------------------------------------------------------------------------

# SystemActor lives in the action kernel; re-exported here because callers name these three.
MLLP = SystemActor("system:mllp")
WORKER = SystemActor("system:surveil")
DEMO = SystemActor("system:demo")


def _when(
    name: str, at: dt.datetime | None, now: dt.datetime, *, not_before: dt.datetime | None = None
) -> dt.datetime:
    """An action's time: ``now`` by default; never in the future, never before ``not_before``."""
    if at is None:
        return now
    at = aware(at, field=name)
    not_in_future(at, field=name, now=now)
    if not_before is not None and at < not_before:
        raise ValidationError({name: f"cannot be before {not_before:%Y-%m-%d %H:%M} UTC"})
    return at


# --- samples --------------------------------------------------------------------------------------------------

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


# --- CSV import -----------------------------------------------------------------------------------------------

MAX_CSV_BYTES = 20 * 1024 * 1024
PREVIEW_ROWS = 12


@dataclass(frozen=True)
class CsvError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class CsvImportError(ValidationError):
    """Every bad cell of a CSV: ``errors`` lists (row, column, message); nothing was imported."""

    def __init__(self, errors: list[CsvError]) -> None:
        self.errors = errors
        super().__init__({"csv": [str(e) for e in errors]})


@dataclass
class CsvPreview:
    rows: int
    samples: int
    new: int
    duplicates: int
    parameters: list[tuple[str, str, int]]  # (code, unit, count)
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    header: list[str]
    table: list[list[str]]
    sha256: str
    result: IngestResult | None = None


def _csv_errors(text: str) -> list[CsvError]:
    """All bad rows and cells of a CSV that ``read_wide_csv`` refused (it stops at the first)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None) or []
    header_line = _csv_line(header)
    try:
        read_wide_csv(header_line)
    except CsvInputError as error:
        return [CsvError(error.row, error.column, error.message)]
    names = [c.strip() for c in header]
    names[0] = names[0].lstrip("\ufeff")
    time_index = names.index("observed_at")
    errors: list[CsvError] = []
    for cells in reader:
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        try:
            read_wide_csv(header_line + _csv_line(cells))
            continue
        except CsvInputError as error:
            first = CsvError(row, error.column, error.message)
        if len(cells) != len(names) or first.column == "observed_at":
            errors.append(first)
        else:
            for i, name in enumerate(names):
                if i == time_index or not cells[i].strip():
                    continue
                try:
                    read_wide_csv(_csv_line(["observed_at", name]) + _csv_line([cells[time_index], cells[i]]))
                except CsvInputError as error:
                    errors.append(CsvError(row, name, error.message))
        if len(errors) >= MAX_ERRORS:
            break
    return errors


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def import_csv(
    run: EcmoRun,
    text: str,
    *,
    actor: Any,
    preview: bool = False,
    source: str | None = None,
    now: dt.datetime | None = None,
) -> CsvPreview:
    """Import a wide CSV of console export (core-api §5) into a run, or preview it.

    All or nothing: any bad header, time or value raises ``CsvImportError`` listing every bad row and column.
    Re-importing the same file (same SHA-256) or overlapping rows adds nothing. ``source`` names the samples of
    columns without an ``@source`` suffix (default ``"device"``).
    """
    require(actor, "sample.ingest", run)
    now = now or timezone.now()
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise CsvImportError(
            [CsvError(1, "observed_at", f"the file is larger than {MAX_CSV_BYTES // 2**20} MB")]
        )
    text = text.lstrip("\ufeff")
    try:
        parsed = read_wide_csv(text)
    except CsvInputError:
        raise CsvImportError(_csv_errors(text)) from None
    try:
        samples = validate_samples(run, parsed, source=source, now=now)
    except ValidationError as exc:
        rows = _sample_rows(text)
        errors = []
        for key, messages in exc.message_dict.items():
            index = int(key.split("[", 1)[1].split("]", 1)[0])
            errors.append(CsvError(rows[index] if index < len(rows) else 0, "observed_at", messages[0]))
        raise CsvImportError(sorted(errors, key=lambda e: e.row)) from None
    # The file's identity: the same export imported twice (by the page or the command) is the same batch.
    digest = hashlib.sha256(text.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()
    reader = list(csv.reader(io.StringIO(text, newline="")))
    header = [c.strip() for c in reader[0]]
    body = [r for r in reader[1:] if any(c.strip() for c in r)]
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.parameter] = counts.get(s.parameter, 0) + 1
    existing = _existing_count(run, samples)
    result = CsvPreview(
        rows=len(body),
        samples=len(samples),
        new=len(samples) - existing,
        duplicates=existing,
        parameters=[(p, PARAMETERS[p].unit, n) for p, n in sorted(counts.items())],
        first_at=min((s.observed_at for s in samples), default=None),
        last_at=max((s.observed_at for s in samples), default=None),
        header=header,
        table=body[:PREVIEW_ROWS],
        sha256=digest,
    )
    if not preview:
        result.result = ingest_samples(
            actor_or_system=actor,
            run=run,
            samples=samples,
            batch_ref=digest,
            kind=IngestBatch.Kind.CSV,
            now=now,
        )
    return result


def _sample_rows(text: str) -> list[int]:
    """The CSV row number of each sample ``read_wide_csv`` returns, in the same order."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    time_index = [c.strip().lstrip("\ufeff") for c in header].index("observed_at")
    rows: list[int] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        rows.extend(reader.line_num for i, c in enumerate(cells) if i != time_index and c.strip())
    return rows


def _existing_count(run: EcmoRun, samples: Sequence[CoreSample]) -> int:
    if not samples:
        return 0
    keys = {(s.parameter, s.observed_at, s.source) for s in samples}
    times = [k[1] for k in keys]
    stored = Sample.objects.filter(
        run=run,
        parameter__in={k[0] for k in keys},
        source__in={k[2] for k in keys},
        observed_at__gte=min(times),
        observed_at__lte=max(times),
    )
    return sum(1 for key in stored.values_list("parameter", "observed_at", "source") if key in keys)


# --- hourly circuit checks ------------------------------------------------------------------------------------

CHECK_FIELDS: tuple[str, ...] = (
    *CHECK_PARAMETERS,
    "heater_set_temperature_c",
    "colour_difference",
    *INSPECTION_FIELDS,
    *SAFETY_FIELDS,
    "notes",
)
CLOT_FIELDS = ("location", "appearance", "size_mm", "change", "action")


def _check_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The check's fields from ``data``, validated; ValidationError names the field and its accepted range."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in CHECK_PARAMETERS:
        raw = data.get(name)
        if raw is None or raw == "":
            values[name] = None
            continue
        try:
            values[name] = check_value(name, raw)
        except InputError as error:
            spec = PARAMETERS[name]
            errors[name] = [f"{error.message} (accepted {spec.minimum:g} to {spec.maximum:g} {spec.unit})"]
    for name in ("pump_speed_rpm", "blood_flow_l_min"):
        if values.get(name) is None and name not in errors:
            errors[name] = ["is required: record the pump speed and the blood flow at every check"]
    heater = data.get("heater_set_temperature_c")
    if heater in (None, ""):
        values["heater_set_temperature_c"] = None
    else:
        try:
            heater = float(heater)
        except (TypeError, ValueError):
            errors["heater_set_temperature_c"] = ["must be a number (15 to 41 °C)"]
        else:
            if not 15 <= heater <= 41:
                errors["heater_set_temperature_c"] = [
                    f"{heater:g} °C is outside the heater range 15 to 41 °C"
                ]
            values["heater_set_temperature_c"] = heater
    colour = data.get("colour_difference") or ""
    if colour not in ("", *ColourDifference.values):
        errors["colour_difference"] = [f"must be one of {', '.join(ColourDifference.values)}"]
    values["colour_difference"] = colour
    for name in (*INSPECTION_FIELDS, *SAFETY_FIELDS):
        default = name != "air_in_circuit"
        raw = data.get(name, default)
        if not isinstance(raw, bool):
            errors[name] = ["must be true or false"]
        values[name] = raw
    values["notes"] = str(data.get("notes") or "").strip()
    if errors:
        raise ValidationError(errors)
    return values


def _clot_rows(clots: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for i, clot in enumerate(clots):
        location = str(clot.get("location") or "").strip()
        appearance = str(clot.get("appearance") or "").strip()
        size = clot.get("size_mm")
        if not location and not appearance and size in (None, ""):
            continue
        if not location:
            errors[f"clots[{i}].location"] = ["say where (component and place)"]
        if not appearance:
            errors[f"clots[{i}].appearance"] = ["say what it looks like (clot, fibrin, deposit)"]
        if size in ("",):
            size = None
        if size is not None:
            try:
                size = float(size)
            except (TypeError, ValueError):
                errors[f"clots[{i}].size_mm"] = ["must be a number of millimetres (0 to 200)"]
                size = None
            else:
                if not 0 <= size <= 200:
                    errors[f"clots[{i}].size_mm"] = [f"{size:g} mm is outside 0 to 200 mm"]
        change = clot.get("change") or ClotFinding.Change.NEW
        action = clot.get("action") or ClotFinding.Action.OBSERVE
        if change not in ClotFinding.Change.values:
            errors[f"clots[{i}].change"] = [f"must be one of {', '.join(ClotFinding.Change.values)}"]
        if action not in ClotFinding.Action.values:
            errors[f"clots[{i}].action"] = [f"must be one of {', '.join(ClotFinding.Action.values)}"]
        rows.append(
            {
                "location": location[:120],
                "appearance": appearance[:120],
                "size_mm": size,
                "change": change,
                "action": action,
            }
        )
    if errors:
        raise ValidationError(errors)
    return rows


def _check_samples(check: CircuitCheck) -> list[CoreSample]:
    samples = [
        CoreSample(check.observed_at, name, getattr(check, name), CHECK)
        for name in CHECK_PARAMETERS
        if getattr(check, name) is not None
    ]
    samples.append(
        CoreSample(check.observed_at, "bubble_detected", 1.0 if check.air_in_circuit else 0.0, CHECK)
    )
    return samples


def _check_time(
    run: EcmoRun, observed_at: Any, now: dt.datetime, *, exclude_chain: int | None = None
) -> dt.datetime:
    at = aware(observed_at, field="observed_at")
    if at < run.started_at:
        raise ValidationError({"observed_at": "cannot be before the run started"})
    if run.ended_at is not None and at > run.ended_at:
        raise ValidationError({"observed_at": "cannot be after the run ended"})
    not_in_future(at, field="observed_at", now=now)
    clash = CircuitCheck.objects.filter(run=run, is_current=True, observed_at=at)
    if exclude_chain is not None:
        clash = clash.exclude(pk=exclude_chain).exclude(original_id=exclude_chain)
    if clash.exists():
        raise ValidationError({"observed_at": "a check at this time is already recorded: amend it instead"})
    return at


def _prefilled(
    values: Mapping[str, Any], prefill: Mapping[str, Mapping[str, Any]] | None
) -> tuple[list[str], dict[str, Any]]:
    """Fields whose value is still the one taken from telemetry (the perfusionist accepted it unchanged)."""
    kept: list[str] = []
    detail: dict[str, Any] = {}
    for name, info in (prefill or {}).items():
        value = values.get(name)
        try:
            offered = float(info.get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if name in CHECK_PARAMETERS and value is not None and abs(float(value) - offered) < 1e-9:
            kept.append(name)
            detail[name] = {
                "value": offered,
                "at": str(info.get("at", "")),
                "source": str(info.get("source", "")),
            }
    return sorted(kept), detail


def _check_snapshot(check: CircuitCheck) -> dict[str, Any]:
    return {**snapshot(check), "clots": [c.as_dict() for c in check.clots.all()]}


@transaction.atomic
def record_check(
    *,
    actor: Any,
    run: EcmoRun,
    observed_at: dt.datetime,
    data: Mapping[str, Any],
    clots: Iterable[Mapping[str, Any]] = (),
    prefill: Mapping[str, Mapping[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> CircuitCheck:
    """Record an hourly circuit check; its values become samples with source "check", then the run is evaluated.

    ``data`` holds the check's fields (core-api §4 codes for the measured values, visual inspection and safety
    booleans, notes). ``prefill`` maps the fields offered from telemetry to ``{"value", "at", "source"}``; those
    submitted unchanged are stored in ``prefilled_fields``.
    """
    require(actor, "check.record", run)
    now = now or timezone.now()
    at = _check_time(run, observed_at, now)
    values = _check_values(data)
    clot_rows = _clot_rows(clots)
    prefilled, detail = _prefilled(values, prefill)
    check = CircuitCheck(
        run=run,
        observed_at=at,
        recorded_by=user_of(actor),
        recorded_at=now,
        **values,
        prefilled_fields=prefilled,
        prefill_detail=detail,
    )
    check.full_clean(exclude=["original", "supersedes"])
    check.save()
    ClotFinding.objects.bulk_create([ClotFinding(check_record=check, **row) for row in clot_rows])
    batch = IngestBatch.objects.create(
        run=run,
        kind=IngestBatch.Kind.CHECK,
        ref=f"check:{check.pk}",
        actor_name=actor_name(actor),
        received_at=now,
    )
    created, _ = _write_samples(run, _check_samples(check), batch=batch, now=now, check=check)
    batch.created_count = len(created)
    batch.save(update_fields=["created_count"])
    audit(actor, action="check.recorded", obj=check, after=_check_snapshot(check))
    hooks.check_written(check, amended=False)
    evaluate_run(run, now=now, replay_from=at)
    return check


@transaction.atomic
def amend_check(
    *,
    actor: Any,
    check: CircuitCheck,
    reason: str,
    data: Mapping[str, Any],
    observed_at: dt.datetime | None = None,
    clots: Iterable[Mapping[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> CircuitCheck:
    """Amend a check: a new version row with the reason; the original and every earlier version stay readable.

    The check's samples (source "check") are replaced by the new version's values.
    """
    require(actor, "check.amend", check)
    now = now or timezone.now()
    if not reason or not reason.strip():
        raise ValidationError({"reason": "say why the check is amended (the original is kept)"})
    check = CircuitCheck.objects.select_for_update().get(pk=check.pk)
    if not check.is_current:
        raise ValidationError({"check": "this version has already been amended: amend the current version"})
    run = check.run
    chain = check.chain_id
    at = check.observed_at if observed_at is None else _check_time(run, observed_at, now, exclude_chain=chain)
    values = _check_values(data)
    clot_rows = _clot_rows([c.as_dict() for c in check.clots.all()] if clots is None else clots)
    unchanged = [f for f in check.prefilled_fields if values.get(f) == getattr(check, f)]
    before = _check_snapshot(check)
    check.is_current = False
    check.save(update_fields=["is_current"])
    amended = CircuitCheck(
        run=run,
        observed_at=at,
        recorded_by=user_of(actor),
        recorded_at=now,
        **values,
        prefilled_fields=unchanged,
        prefill_detail={k: v for k, v in check.prefill_detail.items() if k in unchanged},
        version=check.version + 1,
        original_id=chain,
        supersedes=check,
        amendment_reason=reason.strip(),
    )
    amended.full_clean(exclude=["original", "supersedes"])
    amended.save()
    ClotFinding.objects.bulk_create([ClotFinding(check_record=amended, **row) for row in clot_rows])
    Sample.objects.filter(check_record=check).delete()
    batch = IngestBatch.objects.create(
        run=run,
        kind=IngestBatch.Kind.CHECK,
        ref=f"check:{amended.pk}",
        actor_name=actor_name(actor),
        received_at=now,
    )
    created, _ = _write_samples(run, _check_samples(amended), batch=batch, now=now, check=amended)
    batch.created_count = len(created)
    batch.save(update_fields=["created_count"])
    audit(
        actor,
        action="check.amended",
        obj=amended,
        before=before,
        after=_check_snapshot(amended),
        reason=reason.strip(),
    )
    hooks.check_written(amended, amended=True)
    evaluate_run(run, now=now, replay_from=min(at, check.observed_at))
    return amended


# --- evaluation -----------------------------------------------------------------------------------------------

NOT_APPLICABLE = AlertStatus.NOT_APPLICABLE.value


def _status(finding: Finding | None) -> tuple[str, str]:
    return (NOT_APPLICABLE, "info") if finding is None else (finding.status, finding.severity)


@transaction.atomic
def evaluate_run(
    run: EcmoRun, *, now: dt.datetime, replay_from: dt.datetime | None = None
) -> list[AlertTransition]:
    """Evaluate the rules on ``run`` and store a transition wherever a rule's state changed.

    Live (``replay_from`` None): one evaluation at ``now``. Replay: at every sample time from ``replay_from`` (an
    imported historical span, a late HL7 batch) and then at ``now`` — the same walk as ``ecmo_core.replay``. Moments
    at or before the run's evaluation cursor are never evaluated again: stored transitions are history. An ended run
    is evaluated up to its end.
    """
    now = aware(now, field="now")
    cursor, _ = EvaluationCursor.objects.select_for_update().get_or_create(run=run)
    end = now if run.ended_at is None else min(now, run.ended_at)
    done = cursor.evaluated_through
    if done is not None and end <= done:
        return []
    start = end if replay_from is None else max(aware(replay_from, field="replay_from"), run.started_at)
    if done is not None:
        start = max(start, done + dt.timedelta(microseconds=1))
    start = min(start, end)
    facts = RunFacts.load(run)
    timeline = load_timeline(facts, start=start, end=end)
    moments = sorted({t for t in timeline.times if start <= t < end} | {end})

    states = {s.rule_id: s for s in RuleState.objects.filter(run=run).select_related("alert")}
    transitions: list[AlertTransition] = []
    touched_alerts: dict[int, Alert] = {}
    latest: dict[str, Finding] = {}
    contexts: dict[int, Any] = {}
    for moment in moments:
        key = facts.segment_key(moment)
        if key not in contexts:
            contexts[key] = (facts.context_at(moment), facts.config_at(moment))
        context, config = contexts[key]
        findings = {f.rule_id: f for f in evaluate(timeline, now=moment, config=config, context=context)}
        latest = findings
        active = [r for r, s in states.items() if s.status != NOT_APPLICABLE and r not in findings]
        for rule_id in [*findings, *sorted(active)]:
            finding = findings.get(rule_id)
            new = _status(finding)
            state = states.get(rule_id)
            if state is not None and (state.status, state.severity) == new:
                continue
            transitions.append(_transition(run, rule_id, state, finding, moment, now, states, touched_alerts))
    AlertTransition.objects.bulk_create(transitions)
    for alert in touched_alerts.values():
        alert.save()
    for rule_id, state in states.items():
        finding = latest.get(rule_id)
        state.message = "" if finding is None else finding.message
        state.evidence = {} if finding is None else dict(finding.evidence)
        state.evaluated_at = end
    stored = [s for s in states.values() if s.pk is not None]
    RuleState.objects.bulk_create([s for s in states.values() if s.pk is None])
    RuleState.objects.bulk_update(
        stored,
        ["status", "severity", "rule_version", "since", "alert", "message", "evidence", "evaluated_at"],
    )
    cursor.evaluated_through = end
    cursor.save(update_fields=["evaluated_through", "updated_at"])
    if transitions:
        fired = sorted({t.rule_id for t in transitions if t.to_status == AlertStatus.FIRING})
        audit(
            WORKER,
            action="surveillance.evaluated",
            obj=run,
            after={
                "transitions": len(transitions),
                "from": moments[0],
                "to": end,
                "fired": fired,
            },
        )
    return transitions


def _transition(
    run: EcmoRun,
    rule_id: str,
    state: RuleState | None,
    finding: Finding | None,
    at: dt.datetime,
    now: dt.datetime,
    states: dict[str, RuleState],
    alerts: dict[int, Alert],
) -> AlertTransition:
    status, severity = _status(finding)
    version = finding.rule_version if finding is not None else (state.rule_version if state else 1)
    message = finding.message if finding is not None else "The rule no longer applies to this run now."
    evidence = dict(finding.evidence) if finding is not None else {}
    alert = (
        state.alert
        if state is not None and state.alert is not None and state.alert.resolved_at is None
        else None
    )
    if status == AlertStatus.FIRING:
        if alert is None:
            alert = Alert.objects.create(
                run=run,
                rule_id=rule_id,
                rule_version=version,
                severity=severity,
                peak_severity=severity,
                status=status,
                opened_at=at,
                firing_since=at,
                status_changed_at=at,
                message=message,
                evidence=evidence,
            )
        else:
            if alert.status != AlertStatus.FIRING:
                alert.firing_since = at
            alert.severity = severity
            if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.peak_severity]:
                alert.peak_severity = severity
            alert.message, alert.evidence, alert.rule_version = message, evidence, version
    if alert is not None:
        alert.status = status
        alert.status_changed_at = at
        alerts[alert.pk] = alert
    if state is None:
        state = RuleState(run=run, rule_id=rule_id, evidence={}, evaluated_at=at)
        states[rule_id] = state
    from_status = state.status or ""
    state.status, state.severity, state.rule_version, state.since, state.alert = (
        status,
        severity,
        version,
        at,
        alert,
    )
    return AlertTransition(
        run=run,
        rule_id=rule_id,
        alert=alert,
        at=at,
        from_status=from_status or "",
        to_status=status,
        severity=severity,
        rule_version=version,
        message=message,
        evidence=evidence,
        created_at=now,
    )


# --- alerts ---------------------------------------------------------------------------------------------------


@transaction.atomic
def acknowledge_alert(
    *,
    actor: Any,
    alert: Alert,
    comment: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Acknowledge an open alert: who, when and what they make of it."""
    require(actor, "alert.acknowledge", alert)
    now = now or timezone.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise ValidationError({"alert": "this alert is already resolved"})
    if alert.acknowledged_at is not None:
        raise ValidationError(
            {"alert": f"already acknowledged at {alert.acknowledged_at:%Y-%m-%d %H:%M} UTC"}
        )
    when = _when("at", at, now, not_before=alert.opened_at)
    before = snapshot(alert)
    alert.acknowledged_by, alert.acknowledged_at, alert.acknowledged_comment = (
        user_of(actor),
        when,
        comment.strip(),
    )
    alert.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledged_comment"])
    audit(actor, action="alert.acknowledged", obj=alert, before=before, after=snapshot(alert), reason=comment)
    return alert


@transaction.atomic
def escalate_alert(
    *,
    actor_or_system: Any,
    alert: Alert,
    role: str,
    reason: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Escalate an open alert to a named role (by hand, or by the worker when it went unacknowledged)."""
    require(actor_or_system, "alert.acknowledge", alert)
    now = now or timezone.now()
    if role not in Role.values:
        raise ValidationError({"role": f"must be one of {', '.join(Role.values)}"})
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise ValidationError({"alert": "this alert is already resolved"})
    if alert.escalated_at is not None:
        raise ValidationError({"alert": f"already escalated to {alert.get_escalated_to_role_display()}"})
    when = _when("at", at, now, not_before=alert.opened_at)
    before = snapshot(alert)
    alert.escalated_at, alert.escalated_to_role = when, role
    alert.save(update_fields=["escalated_at", "escalated_to_role"])
    notify.queue_escalation(alert, now=now)
    audit(
        actor_or_system,
        action="alert.escalated",
        obj=alert,
        before=before,
        after=snapshot(alert),
        reason=reason,
    )
    return alert


def _link_target(alert: Alert, target: Model) -> None:
    if program_id_of(target) != alert.run.program_id:
        raise ValidationError({"link": "can only link records of the same program"})


@transaction.atomic
def resolve_alert(
    *,
    actor: Any,
    alert: Alert,
    comment: str,
    component: Component | None = None,
    link: Model | None = None,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Resolve an alert, linking what followed: the component fitted (a circuit change) and/or a record such as a
    decision (stored as an ``AlertLink`` with relation "resolved_by")."""
    require(actor, "alert.resolve", alert)
    now = now or timezone.now()
    if not comment or not comment.strip():
        raise ValidationError({"comment": "say what was done (e.g. oxygenator changed, decision to observe)"})
    alert = Alert.objects.select_for_update().select_related("run").get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise ValidationError({"alert": "this alert is already resolved"})
    if component is not None and component.circuit.run_id != alert.run_id:
        raise ValidationError({"component": "the component must belong to this run"})
    when = _when("at", at, now, not_before=alert.opened_at)
    before = snapshot(alert)
    alert.resolved_by, alert.resolved_at, alert.resolved_comment = user_of(actor), when, comment.strip()
    alert.resolved_component = component
    alert.save(update_fields=["resolved_by", "resolved_at", "resolved_comment", "resolved_component"])
    if link is not None:
        _link_target(alert, link)
        AlertLink.objects.create(
            alert=alert,
            relation="resolved_by",
            target_type=ContentType.objects.get_for_model(link),
            target_id=link.pk,
            created_by=user_of(actor),
            created_at=now,
        )
    audit(
        actor,
        action="alert.resolved",
        obj=alert,
        before=before,
        after={**snapshot(alert), "link": None if link is None else f"{link._meta.label}:{link.pk}"},
        reason=comment,
    )
    if at is None:
        # What followed (typically a new component) changes the rules' context: judge the run again now, so the
        # run page shows e.g. a new oxygenator's baseline forming rather than the state before the change.
        evaluate_run(alert.run, now=now)
    return alert


@transaction.atomic
def link_alert(
    *,
    actor: Any,
    alert: Alert,
    target: Model,
    relation: str,
    note: str = "",
    permission: str = "alert.acknowledge",
) -> AlertLink:
    """Link an alert to a record that builds on it (relation e.g. "adverse_event", "mm_case", "decision")."""
    require(actor, permission, alert)
    if not relation.strip():
        raise ValidationError({"relation": "name the relation (adverse_event, mm_case, decision …)"})
    _link_target(alert, target)
    link, created = AlertLink.objects.get_or_create(
        alert=alert,
        relation=relation.strip()[:40],
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        defaults={"note": note[:300], "created_by": user_of(actor), "created_at": timezone.now()},
    )
    if created:
        audit(
            actor,
            action="alert.linked",
            obj=alert,
            after={"relation": link.relation, "target": f"{target._meta.label}:{target.pk}"},
        )
    return link


# The worker's functions live in ``surveillance.worker``; these names stay importable from here.
_WORKER_NAMES = frozenset({"escalate_due_alerts", "evaluate_active_runs", "process_transitions"})


def __getattr__(name: str) -> Any:
    if name in _WORKER_NAMES:
        from ecmo_web.surveillance import worker

        return getattr(worker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- settings -------------------------------------------------------------------------------------------------


@transaction.atomic
def save_settings(
    *,
    actor: Any,
    program: Program,
    rules: Mapping[str, Any],
    escalate_warning_after_min: int = 30,
    escalate_critical_after_min: int = 10,
    escalate_to_role: str = Role.INTENSIVIST,
    estimated_vo2_ml_kg_min: float = 3.0,
    effective_from: dt.datetime | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> SurveillanceSetting:
    """Store new surveillance settings for a program from ``effective_from`` (earlier rows stay as history)."""
    require(actor, "settings.manage", program)
    now = now or timezone.now()
    try:
        config_from_mapping(rules)
    except InputError as error:
        raise ValidationError({error.field: [error.message]}) from None
    if not reason.strip():
        raise ValidationError({"reason": "say why the settings change (kept in the history)"})
    setting = SurveillanceSetting(
        program=program,
        rules=dict(rules),
        escalate_warning_after_min=escalate_warning_after_min,
        escalate_critical_after_min=escalate_critical_after_min,
        escalate_to_role=escalate_to_role,
        estimated_vo2_ml_kg_min=estimated_vo2_ml_kg_min,
        effective_from=now if effective_from is None else aware(effective_from, field="effective_from"),
        set_by=user_of(actor),
        reason=reason.strip(),
        created_at=now,
    )
    setting.full_clean()
    setting.save()
    audit(actor, action="surveillance.settings_changed", obj=setting, after=snapshot(setting), reason=reason)
    return setting
