"""The HL7 listener's handler: one ORU^R01 in, its samples committed, one acknowledgement out.

The MLLP server (``ecmo_web.mllp``) calls :func:`handle` in a worker thread for each framed message and sends
the string it returns. The acknowledgement is built only after the transaction that stores the samples has
committed, so an AA/CA means the data are on disk; anything not stored is kept whole in ``DeadLetter`` with the
reason, and acknowledged AE/AR (CE/CR in enhanced mode) naming that reason in MSA-3/ERR.

Binding a message to a run (docs/hl7-mllp.md §5). A message naming a patient is stored only on that patient's
run: PID-3 identifiers match as (value, assigning authority PID-3.4) within the programs the listener serves.
1. PID-3 names a known patient: that patient's run in progress — unless the patient has none (refused), or the
   message's console or bed feeds another patient's run (refused and flagged as an identity conflict);
2. otherwise the console (OBX-18/OBR equipment id ↔ ``DeviceAssociation`` or the run's ``console_serial``), then
   the bed (PV1-3 ↔ ``DeviceAssociation``). If PID-3 carried an identifier unknown here, this is allowed only
   when the bound patient holds no identifier of that authority, and the batch is marked identity unverified.
No match, or more than one, is an error (204, unknown key identifier): the message waits in the dead-letter
table of the program concerned (when one is known) until someone associates the console or bed.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone

from ecmo_core import hl7v2
from ecmo_core.surveillance import Sample as CoreSample
from ecmo_web.kernel import actor_name, audit, require
from ecmo_web.mllp import current_peer
from ecmo_web.runs.models import EcmoRun, Patient, PatientIdentifier
from ecmo_web.surveillance import sqlrows
from ecmo_web.surveillance.actions import MLLP, insert_sample_rows, validate_samples
from ecmo_web.surveillance.evaluation_queue import request_evaluations
from ecmo_web.surveillance.models import (
    DeadLetter,
    DeviceAssociation,
    InboundMessage,
    IngestBatch,
    Sample,
)

log = logging.getLogger("ecmo.hl7")

# A live feed stamps what it measures now. A device clock running ahead would make its samples the "latest"
# reading for as long as it is ahead, hiding the real ones from the rules, so a live message ahead of this
# server's clock by more than this is refused naming the time (NTP-synchronised gateways are within seconds;
# local practice). CSV and API batches keep the wider window of ``actions.ingest`` (a console export).
CLOCK_AHEAD = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ListenerConfig:
    code_map: hl7v2.CodeMap = field(default_factory=lambda: hl7v2.DEFAULT_CODE_MAP)
    default_tz: dt.tzinfo = dt.UTC
    peer: str = ""
    # The programs whose patients, runs and consoles this listener serves (None: all). Identifiers are matched
    # only within them: a gateway of one hospital never reaches another program's patients.
    program_ids: frozenset[int] | None = None


class BindingError(Exception):
    """No run, or no safe run, for this message. ``message`` goes back in the ACK (no patient codes); ``detail``
    is the reviewer's reason in the dead letter; ``program_id`` is whose review it belongs to, when known."""

    def __init__(
        self, message: str, *, detail: str = "", program_id: int | None = None, conflict: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        self.program_id = program_id
        self.conflict = conflict


@dataclass(frozen=True)
class Binding:
    run: Any  # an EcmoRun from bind_run; a row of the group's snapshot inside the listener
    # Bound by console or bed while PID-3 carried an identifier unknown here: stored, with a warning on the run.
    identity_unverified: bool = False


# Identifier kinds that name a patient in PID-3 (names are not identifiers).
_ID_KINDS = (PatientIdentifier.Kind.MRN, PatientIdentifier.Kind.NATIONAL)


def _bed_keys(location: hl7v2.Location) -> set[str]:
    keys = set()
    if location.bed:
        keys.add(location.bed)
        if location.point_of_care:
            keys.add(f"{location.point_of_care}^{location.bed}")
            if location.room:
                keys.add(f"{location.point_of_care}^{location.room}^{location.bed}")
    return keys


def _served(qs: Any, program_ids: frozenset[int] | None, path: str = "program_id") -> Any:
    return qs if program_ids is None else qs.filter(**{f"{path}__in": program_ids})


def _message_keys(parsed: hl7v2.ParsedMessage) -> tuple[list[tuple[str, str]], set[str], set[str]]:
    """(PID-3 identifiers as (value, authority), device ids, bed keys) of a message."""
    ids = [(p.id, p.authority) for p in parsed.patient_ids if p.id]
    devices = {d for d in parsed.device_ids if d} | {o.device_id for o in parsed.observations if o.device_id}
    return ids, devices, _bed_keys(parsed.location)


def _active_at(row: Any, at: dt.datetime) -> bool:
    return bool(row.started_at <= at and (row.ended_at is None or row.ended_at >= at))


@dataclass(frozen=True)
class _PatientRow:
    """What binding needs of a patient (read with raw SQL: the listener's hot path)."""

    pk: int
    code: str
    program_id: int


@dataclass(frozen=True)
class _RunRow:
    """What binding and storing need of a run: read in the group's transaction, never kept beyond it."""

    pk: int
    program_id: int
    patient_id: int
    console_serial: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    patient: _PatientRow


@dataclass(frozen=True)
class _AssociationRow:
    run_id: int
    console_serial: str
    bed: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


def _aware(value: Any) -> Any:
    """A datetime read with a raw cursor as an aware UTC datetime (SQLite returns text, PostgreSQL aware values)."""
    if value is None or (isinstance(value, dt.datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


def _in(column: str, values: Any) -> tuple[str, list[Any]]:
    """``column IN (%s, …)`` and its parameters (the caller skips empty sets)."""
    values = sorted(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


class BindingSnapshot:
    """Everything binding needs for messages timed within [``since``, ``until``] that name these consoles, beds and
    patient identifiers: the runs and console/bed associations that may be active then, and the identifiers of the
    patients concerned. A group of messages is bound from one snapshot read inside the transaction that stores
    them (at most four small indexed queries, whatever the group's size); nothing is kept across groups, so a
    listener never binds to a run ended or re-associated since (several listeners may run side by side)."""

    def __init__(
        self,
        *,
        since: dt.datetime,
        until: dt.datetime,
        identifiers: set[tuple[str, str]],
        program_ids: frozenset[int] | None,
        devices: set[str] = frozenset(),  # type: ignore[assignment]
        beds: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        qn = connection.ops.quote_name
        adapt = connection.ops.adapt_datetimefield_value
        runs_t, patients_t = qn(EcmoRun._meta.db_table), qn(Patient._meta.db_table)
        ids_t, assoc_t = qn(PatientIdentifier._meta.db_table), qn(DeviceAssociation._meta.db_table)
        live = "{t}.started_at <= %s AND ({t}.ended_at IS NULL OR {t}.ended_at >= %s)"
        live_params = [adapt(until), adapt(since)]
        served, served_params = (
            _in("{t}.program_id", program_ids or ()) if program_ids is not None else ("", [])
        )
        # Table and column names come from the models; every value is a bound parameter.
        self.associations: list[_AssociationRow] = []
        if devices or beds:
            keys = [_in("console_serial", devices)] if devices else []
            keys += [_in("bed", beds)] if beds else []
            where = " OR ".join(k for k, _ in keys)
            sql = (
                f"SELECT run_id, console_serial, bed, started_at, ended_at FROM {assoc_t} "  # noqa: S608
                f"WHERE {live.format(t=assoc_t)} AND ({where})"
                + (f" AND {served.format(t=assoc_t)}" if served else "")
            )
            params = live_params + [v for _, vs in keys for v in vs] + served_params
            self.associations = [
                _AssociationRow(r[0], r[1], r[2], _aware(r[3]), _aware(r[4])) for r in _rows(sql, params)
            ]
        values = {v for v, _ in identifiers}
        self.patients: dict[tuple[str, str], list[_PatientRow]] = {}
        named: set[int] = set()
        if values:
            clause, params = _in("i.value", values)
            sql = (
                f"SELECT i.value, i.authority, p.id, p.code, p.program_id FROM {ids_t} i "  # noqa: S608
                f"JOIN {patients_t} p ON p.id = i.patient_id WHERE i.kind IN (%s, %s) AND {clause}"
            )
            for value, authority, pk, code, program_id in _rows(sql, [*_ID_KINDS, *params]):
                if program_ids is None or program_id in program_ids:
                    self.patients.setdefault((value, authority), []).append(_PatientRow(pk, code, program_id))
                    named.add(pk)
        wanted = []
        if devices:
            wanted.append(_in("r.console_serial", devices))
        if named:
            wanted.append(_in("r.patient_id", named))
        self.runs: dict[int, _RunRow] = {}
        select = (
            "SELECT r.id, r.program_id, r.patient_id, r.console_serial, r.started_at, r.ended_at, p.code, "  # noqa: S608
            f"p.program_id FROM {runs_t} r JOIN {patients_t} p ON p.id = r.patient_id WHERE "
        )
        if wanted:
            where = " OR ".join(k for k, _ in wanted)
            sql = (
                select
                + f"{live.format(t='r')} AND ({where})"
                + (f" AND {served.format(t='r')}" if served else "")
            )
            self._add_runs(sql, live_params + [v for _, vs in wanted for v in vs] + served_params)
        missing = {a.run_id for a in self.associations} - set(self.runs)
        if (
            missing
        ):  # an association may outlive its run's end: still bind to it (validation refuses the times)
            clause, params = _in("r.id", missing)
            self._add_runs(select + clause, params)
        self.authorities: dict[int, set[str]] = {}
        if values and self.runs:
            clause, params = _in("patient_id", {r.patient_id for r in self.runs.values()})
            sql = f"SELECT patient_id, authority FROM {ids_t} WHERE kind IN (%s, %s) AND {clause}"  # noqa: S608
            for patient_id, authority in _rows(sql, [*_ID_KINDS, *params]):
                self.authorities.setdefault(patient_id, set()).add(authority)

    def _add_runs(self, sql: str, params: list[Any]) -> None:
        for pk, program_id, patient_id, serial, started, ended, code, patient_program in _rows(sql, params):
            patient = _PatientRow(patient_id, code, patient_program)
            self.runs[pk] = _RunRow(
                pk, program_id, patient_id, serial, _aware(started), _aware(ended), patient
            )

    def device_runs(self, devices: set[str], beds: set[str], at: dt.datetime) -> tuple[list[_RunRow], str]:
        """Runs the console (OBX-18/OBR) or, failing that, the bed (PV1-3) is associated with at ``at``."""
        if devices:
            found = {
                a.run_id for a in self.associations if a.console_serial in devices and _active_at(a, at)
            } or {r.pk for r in self.runs.values() if r.console_serial in devices and _active_at(r, at)}
            if found:
                return [self.runs[pk] for pk in sorted(found)], f"device {', '.join(sorted(devices))}"
        if beds:
            found = {a.run_id for a in self.associations if a.bed in beds and _active_at(a, at)}
            if found:
                return [self.runs[pk] for pk in sorted(found)], f"bed {', '.join(sorted(beds))}"
        described = "; ".join(
            [
                f"device {', '.join(sorted(devices))}" if devices else "no device id",
                f"bed {', '.join(sorted(beds))}" if beds else "no bed",
            ]
        )
        return [], described

    def bind(self, parsed: hl7v2.ParsedMessage, at: dt.datetime) -> Binding:
        """See :func:`bind_run`."""
        ids, devices, beds = _message_keys(parsed)
        shown = ", ".join(f"{v}^^^{a}" if a else v for v, a in ids)
        patients = {p.pk: p for key in ids for p in self.patients.get(key, [])}
        device_runs, described = self.device_runs(devices, beds, at)
        if len(patients) > 1:
            first = min(patients.values(), key=lambda p: p.pk)
            raise BindingError(
                "the patient identifiers name more than one patient; refused for review",
                detail=f"identity conflict: identifiers {shown} name patients "
                f"{', '.join(sorted(p.code for p in patients.values()))}",
                program_id=first.program_id,
                conflict=True,
            )
        if patients:
            patient = next(iter(patients.values()))
            others = [r for r in device_runs if r.patient_id != patient.pk]
            runs = [r for r in self.runs.values() if r.patient_id == patient.pk and _active_at(r, at)]
            if not runs:
                raise BindingError(
                    f"patient identifier {shown} has no run in progress at {at:%Y-%m-%d %H:%M} UTC; nothing stored",
                    detail=f"patient {patient.code} ({shown}) has no run in progress at {at:%Y-%m-%d %H:%M} UTC"
                    + (f"; {described} feeds the run of {others[0].patient.code}" if others else ""),
                    program_id=patient.program_id,
                    conflict=bool(others),
                )
            if others:
                raise BindingError(
                    "identity conflict: the patient identifier and the console or bed name different patients; "
                    "refused for review",
                    detail=f"identity conflict: the message names {patient.code} ({shown}), but {described} "
                    f"feeds the run of {others[0].patient.code}",
                    program_id=others[0].program_id,
                    conflict=True,
                )
            if len(runs) > 1:
                raise BindingError(
                    f"patient identifier {shown} matches {len(runs)} runs at {at:%Y-%m-%d %H:%M}",
                    program_id=patient.program_id,
                )
            return Binding(runs[0])
        if len(device_runs) > 1:
            raise BindingError(
                f"{described} is associated with {len(device_runs)} runs",
                program_id=device_runs[0].program_id,
            )
        if not device_runs:
            raise BindingError(
                f"no run in progress matches this message "
                f"({f'patient {shown}' if ids else 'no patient identifier'}; {described}); associate the console "
                "or bed with the run, then resend"
            )
        run = device_runs[0]
        if ids:
            if self.authorities.get(run.patient_id, set()) & {a for _, a in ids}:
                raise BindingError(
                    "identity conflict: the patient identifier is not that of the patient on this console or "
                    "bed; refused for review",
                    detail=f"identity conflict: the message names {shown}, unknown here, but the patient on "
                    f"{described} ({run.patient.code}) has another identifier of that authority",
                    program_id=run.program_id,
                    conflict=True,
                )
            return Binding(run, identity_unverified=True)
        return Binding(run)


def bind_run(
    parsed: hl7v2.ParsedMessage, *, at: dt.datetime, program_ids: frozenset[int] | None = None
) -> Binding:
    """The run this message's observations belong to (docs/hl7-mllp.md §5), or ``BindingError``.

    A message naming a patient is stored only on that patient's run: identifiers match as (value, assigning
    authority) within the served programs; a known patient without a run in progress, or one other than the
    patient of the console's or bed's run, is refused. Console/bed binding applies when PID-3 is empty, or names
    an identifier unknown here of an authority the bound patient holds no identifier of (``identity_unverified``).
    """
    ids, devices, beds = _message_keys(parsed)
    snapshot = BindingSnapshot(
        since=at, until=at, identifiers=set(ids), program_ids=program_ids, devices=devices, beds=beds
    )
    binding = snapshot.bind(parsed, at)
    return Binding(EcmoRun.objects.get(pk=binding.run.pk), binding.identity_unverified)


def _dead_letter(
    text: str, header: hl7v2.MessageHeader, error: hl7v2.HL7Error, config: ListenerConfig
) -> DeadLetter:
    letter = DeadLetter.objects.create(
        raw_message=text,
        reason=error.message,
        error_code=str(error.code),
        error_location=error.location,
        sending_application=header.sending_application,
        control_id=header.control_id,
        peer=config.peer,
        received_at=timezone.now(),
    )
    log.warning("HL7 %s|%s dead-lettered: %s", header.sending_application, header.control_id, error)
    return letter


# --- storing: one transaction for a group of messages, each acknowledged after that commit -------------------


@dataclass
class Received:
    """One message as it came off the wire, triaged (parsed and checked) before it joins a group."""

    text: str
    peer: str
    received_at: dt.datetime
    header: hl7v2.MessageHeader
    triage: hl7v2.Triage | None  # None: triage itself failed (answered with error 207)


@dataclass
class _Plan:
    """What a group will do with one message, decided before anything of the group is written."""

    item: Received
    run: EcmoRun | None = None
    unverified: bool = False
    checked: list[CoreSample] = field(default_factory=list)
    ref: str = ""
    new: list[CoreSample] = field(default_factory=list)
    duplicates: int = 0
    error: hl7v2.HL7Error | None = None
    outcome: hl7v2.Outcome = hl7v2.Outcome.ACCEPTED
    letter: dict[str, Any] = field(default_factory=dict)
    ack: str = ""

    def fail(
        self, error: hl7v2.HL7Error, outcome: hl7v2.Outcome = hl7v2.Outcome.ERROR, **letter: Any
    ) -> None:
        self.error, self.outcome, self.letter = error, outcome, letter


def receive(text: str, config: ListenerConfig, *, peer: str = "") -> Received:
    """Triage one message (parse, map codes, check values) — CPU only, outside any transaction."""
    return _received(text, config, peer, timezone.now())


def _received(text: str, config: ListenerConfig, peer: str, received_at: dt.datetime) -> Received:
    try:
        result = hl7v2.triage(text, code_map=config.code_map, default_tz=config.default_tz)
    except Exception:
        log.exception("HL7 message could not be triaged")
        return Received(text, peer or config.peer, received_at, hl7v2.read_header(text), None)
    return Received(text, peer or config.peer, received_at, result.header, result)


def _refusal(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages)


def _bind_all(plans: list[_Plan], config: ListenerConfig, now: dt.datetime) -> None:
    """Bind every accepted message of the group from one snapshot (three queries, whatever the group's size)."""
    timed: list[tuple[_Plan, hl7v2.ParsedMessage, dt.datetime]] = []
    for plan in plans:
        parsed = plan.item.triage.parsed if plan.item.triage and plan.error is None else None
        if parsed is not None:
            at = parsed.message_time or max((o.observed_at for o in parsed.observations), default=now)
            timed.append((plan, parsed, at))
    if not timed:
        return
    keys = [_message_keys(parsed) for _, parsed, _ in timed]
    snapshot = BindingSnapshot(
        since=min(at for _, _, at in timed),
        until=max(at for _, _, at in timed),
        identifiers={key for ids, _, _ in keys for key in ids},
        program_ids=config.program_ids,
        devices={d for _, devices, _ in keys for d in devices},
        beds={b for _, _, beds in keys for b in beds},
    )
    for plan, parsed, at in timed:
        try:
            binding = snapshot.bind(parsed, at)
        except BindingError as exc:
            plan.fail(
                hl7v2.HL7Error(204, exc.message, "PID", 3),
                program_id=exc.program_id,
                reason=exc.detail,
                conflict=exc.conflict,
            )
        else:
            plan.run, plan.unverified = binding.run, binding.identity_unverified


def _parsed(plan: _Plan) -> hl7v2.ParsedMessage:
    assert plan.item.triage is not None and plan.item.triage.parsed is not None
    return plan.item.triage.parsed


def _validate_all(plans: list[_Plan], now: dt.datetime) -> None:
    for plan in plans:
        if plan.run is None or plan.error is not None:
            continue
        parsed = _parsed(plan)
        app, control_id = parsed.dedupe_key
        plan.ref = f"{app}|{control_id}"
        samples = [
            {
                "observed_at": o.observed_at,
                "parameter": o.parameter,
                "value": o.value,
                "source": f"hl7:{o.device_id or app or 'device'}",
            }
            for o in parsed.observations
        ]
        error = _content_error(parsed, samples, now)
        if error is not None:
            plan.fail(error, program_id=plan.run.program_id)
            continue
        try:
            plan.checked = validate_samples(plan.run, samples, source=None, now=now)
        except ValidationError as exc:
            plan.fail(_located(exc, parsed), program_id=plan.run.program_id)


def _content_error(
    parsed: hl7v2.ParsedMessage, samples: list[dict[str, Any]], now: dt.datetime
) -> hl7v2.HL7Error | None:
    """A device clock ahead of ours, or two OBX giving one parameter two values at one time (which would be
    kept is arbitrary): refused, naming the OBX. The same value twice is stored once."""
    seen: dict[tuple[str, dt.datetime, str], hl7v2.Observation] = {}
    for obs, sample in zip(parsed.observations, samples, strict=True):
        if obs.observed_at > now + CLOCK_AHEAD:
            ahead = (obs.observed_at - now).total_seconds() / 60
            return hl7v2.HL7Error(
                102,
                f"observation time {obs.observed_at:%Y-%m-%d %H:%M:%S} UTC is {ahead:.0f} min ahead of this "
                f"server's clock (at most {CLOCK_AHEAD.total_seconds() / 60:.0f} min): check the device clock "
                f"({obs.parameter})",
                "OBX",
                14,
                sequence=obs.obx_index,
            )
        first = seen.setdefault((obs.parameter, obs.observed_at, sample["source"]), obs)
        if first.value != obs.value:
            return hl7v2.HL7Error(
                102,
                f"OBX-5 {obs.value:g} conflicts with OBX {first.obx_index} ({first.value:g}) for {obs.parameter} "
                "at the same time from the same device",
                "OBX",
                5,
                sequence=obs.obx_index,
            )
    return None


def _located(exc: ValidationError, parsed: hl7v2.ParsedMessage) -> hl7v2.HL7Error:
    """A refused sample as an HL7 error at its OBX: OBX-14 for a time outside the run, OBX-5 for a value."""
    key = next(iter(exc.message_dict), "") if hasattr(exc, "error_dict") else ""
    index = int(key.split("[", 1)[1].split("]", 1)[0]) if key.startswith("samples[") else 0
    obs = parsed.observations[index] if index < len(parsed.observations) else None
    field_no = 14 if key.endswith(".observed_at") else 5
    return hl7v2.HL7Error(
        102,
        f"{'time' if field_no == 14 else 'value'} refused: {_refusal(exc)}",
        "OBX",
        field_no,
        sequence=obs.obx_index if obs is not None else 1,
    )


def _deduplicate(plans: list[_Plan]) -> None:
    """Split each message's samples into new ones and ones already held: a batch already stored under the same
    (run, sender|control id) adds nothing; otherwise samples already stored (or earlier in the group) are skipped.
    One query for the batches, one per run for the samples."""
    live = [p for p in plans if p.run is not None and p.error is None and p.checked]
    if not live:
        return
    qn = connection.ops.quote_name
    runs_clause, run_params = _in("run_id", {p.run.pk for p in live if p.run})
    refs_clause, ref_params = _in("ref", {p.ref for p in live})
    held = set(
        _rows(
            f"SELECT run_id, ref FROM {qn(IngestBatch._meta.db_table)} "  # noqa: S608 - names from the model
            # NOT (ref = ''): the unique index on (run, kind, ref) is partial (WHERE NOT (ref = '')), and SQLite uses a
            # partial index only when the query repeats its condition; without it, it read every batch of the run.
            f"WHERE kind = %s AND {runs_clause} AND {refs_clause} AND NOT (ref = '')",
            [IngestBatch.Kind.HL7.value, *run_params, *ref_params],
        )
    )
    by_run: dict[int, list[_Plan]] = {}
    for plan in live:
        assert plan.run is not None
        key = (plan.run.pk, plan.ref)
        if key in held:
            plan.duplicates = len(plan.checked)
            continue
        held.add(key)
        by_run.setdefault(plan.run.pk, []).append(plan)
    samples = [s for members in by_run.values() for p in members for s in p.checked]
    if not samples:
        return
    times = [s.observed_at for s in samples]
    adapt = connection.ops.adapt_datetimefield_value
    clauses = [_in("run_id", set(by_run)), _in("parameter", {s.parameter for s in samples})]
    clauses.append(_in("source", {s.source for s in samples}))
    seen = {
        (run_id, parameter, _aware(at), source)
        for run_id, parameter, at, source in _rows(
            f"SELECT run_id, parameter, observed_at, source FROM {qn(Sample._meta.db_table)} "  # noqa: S608
            f"WHERE {' AND '.join(c for c, _ in clauses)} AND observed_at >= %s AND observed_at <= %s",
            [v for _, vs in clauses for v in vs] + [adapt(min(times)), adapt(max(times))],
        )
    }
    for run_id, members in by_run.items():
        for plan in members:
            for s in plan.checked:
                key4 = (run_id, s.parameter, s.observed_at, s.source)
                if key4 in seen:
                    plan.duplicates += 1
                else:
                    seen.add(key4)
                    plan.new.append(s)


def _ack(plan: _Plan, now: dt.datetime) -> str:
    header = plan.item.header
    if plan.error is not None:
        return hl7v2.build_ack(header, code=hl7v2.ack_code(plan.outcome, header), error=plan.error, now=now)
    created, duplicates = len(plan.new), plan.duplicates
    text = f"{created} stored, {duplicates} already held" if duplicates else f"{created} stored"
    return hl7v2.build_ack(header, code=hl7v2.ack_code(hl7v2.Outcome.ACCEPTED, header), text=text, now=now)


def _outcome(plan: _Plan, reprocessed: bool) -> str:
    if plan.error is not None:
        rejected = plan.outcome is hl7v2.Outcome.REJECTED
        return InboundMessage.Outcome.REJECTED if rejected else InboundMessage.Outcome.ERROR
    if plan.new:
        return InboundMessage.Outcome.REPROCESSED if reprocessed else InboundMessage.Outcome.STORED
    return InboundMessage.Outcome.DUPLICATE if plan.duplicates else InboundMessage.Outcome.STORED


_BATCH_COLUMNS = (
    "run_id", "kind", "ref", "actor_name", "received_at", "created_count", "duplicate_count", "identity_unverified"
)  # fmt: skip
_LOG_COLUMNS = (
    "program_id", "run_id", "received_at", "sending_application", "control_id", "peer", "outcome", "ack_code",
    "ack", "detail", "raw_message", "dead_letter_id",
)  # fmt: skip


def store_group(
    items: list[Received],
    config: ListenerConfig,
    *,
    now: dt.datetime | None = None,
    reprocessed: bool = False,
    actor: Any = None,
) -> list[_Plan]:
    """Bind, check and store a group of messages in the caller's transaction; returns each message's plan with its
    ACK. A message that cannot be stored (unreadable, no run, a refused value) is dead-lettered and answered with
    an error without affecting the others: every check happens before the first write. Writes per group: the new
    batches, their samples, dead letters and log rows in one statement each, one evaluation request per run, and
    one audit event naming every control id."""
    now = now or timezone.now()
    plans = [_Plan(item) for item in items]
    for plan in plans:
        result = plan.item.triage
        if result is None:
            plan.fail(hl7v2.HL7Error(207, "the message could not be stored; it may be sent again"))
        elif result.outcome is not hl7v2.Outcome.ACCEPTED or result.parsed is None:
            assert result.error is not None
            plan.fail(result.error, result.outcome)
    _bind_all(plans, config, now)
    _validate_all(plans, now)
    _deduplicate(plans)

    storing = [p for p in plans if p.new]
    rows = []
    adapt = sqlrows.datetime_adapter()
    if storing:
        name, kind = actor_name(actor or MLLP), IngestBatch.Kind.HL7.value
        # One statement for the group's batches; each (run, ref) occurs once (``_deduplicate``), which is how the
        # returned ids are matched to their messages (RETURNING promises no order).
        returned = sqlrows.insert(
            IngestBatch,
            _BATCH_COLUMNS,
            [
                (p.run.pk, kind, p.ref, name, adapt(now), len(p.new), p.duplicates, p.unverified)
                for p in storing
                if p.run is not None
            ],
            "RETURNING id, run_id, ref",
            fetch=True,
        )
        batch_of = {(run_id, ref): batch_id for batch_id, run_id, ref in returned}
        for plan in storing:
            assert plan.run is not None
            run_id = plan.run.pk
            batch_id = batch_of[(run_id, plan.ref)]
            rows += [
                (run_id, s.parameter, s.observed_at, s.value, s.source, now, batch_id, None) for s in plan.new
            ]
    insert_sample_rows(rows)
    failed = [p for p in plans if p.error is not None]
    # One by one (failures are rare): each new dead letter is audited by its post_save receiver
    # (``surveillance.deadletters``), so that no way in can park a message silently.
    letters = [
        DeadLetter.objects.create(
            program_id=p.letter.get("program_id"),
            raw_message=p.item.text,
            reason=p.letter.get("reason") or (p.error.message if p.error else ""),
            error_code=str(p.error.code) if p.error else "",
            error_location=p.error.location if p.error else "",
            sending_application=p.item.header.sending_application[:200],
            control_id=p.item.header.control_id[:200],
            peer=p.item.peer[:200],
            received_at=p.item.received_at,
            identity_conflict=bool(p.letter.get("conflict")),
        )
        for p in failed
    ]
    letter_of = {id(p): letter for p, letter in zip(failed, letters, strict=True)}
    for plan in plans:
        plan.ack = _ack(plan, now)
    sqlrows.insert(
        InboundMessage,
        _LOG_COLUMNS,
        [
            (
                p.run.program_id if p.run is not None else p.letter.get("program_id"),
                p.run.pk if p.run is not None else None,
                adapt(p.item.received_at),
                p.item.header.sending_application[:200],
                p.item.header.control_id[:200],
                p.item.peer[:200],
                _outcome(p, reprocessed),
                _ack_code(p.ack),
                p.ack,
                p.letter.get("reason") or (p.error.message if p.error else ""),
                p.item.text,
                letter.pk if (letter := letter_of.get(id(p))) is not None else None,
            )
            for p in plans
        ],
    )
    requests = [(p.run.pk, min(s.observed_at for s in p.new)) for p in storing if p.run is not None]
    request_evaluations(requests, now=now)
    programs = {p.run.program_id for p in plans if p.run is not None} | {
        p.letter["program_id"] for p in plans if p.letter.get("program_id")
    }
    audit(
        actor or MLLP,
        "hl7.messages_committed",
        object_type="surveillance.inboundmessage",
        object_id=f"{len(plans)} message{'s' if len(plans) != 1 else ''}",
        program_id=next(iter(programs)) if len(programs) == 1 else None,
        after={
            "messages": [
                {
                    "control_id": p.item.header.control_id,
                    "sender": p.item.header.sending_application,
                    "outcome": _outcome(p, reprocessed),
                    "run": p.run.pk if p.run is not None else None,
                    "stored": len(p.new),
                    "already_held": p.duplicates,
                    **({"error": p.error.code} if p.error is not None else {}),
                }
                for p in plans
            ],
            "samples_stored": len(rows),
        },
    )
    for plan in plans:
        header = plan.item.header
        if plan.error is not None:
            log.warning(
                "HL7 %s|%s dead-lettered: %s", header.sending_application, header.control_id, plan.error
            )
    return plans


def _ack_code(ack: str) -> str:
    for segment in ack.replace("\n", "\r").split("\r"):
        if segment.startswith("MSA|"):
            return segment.split("|")[1][:2]
    return ""


def _last_resort(item: Received, config: ListenerConfig) -> str:
    """The answer when even a group of one could not be stored: 207, and the message kept if at all possible."""
    error = hl7v2.HL7Error(207, "the message could not be stored; it may be sent again")
    ack = hl7v2.build_ack(
        item.text, code=hl7v2.ack_code(hl7v2.Outcome.ERROR, item.text), error=error, now=timezone.now()
    )
    try:
        with transaction.atomic():
            letter = _dead_letter(item.text, item.header, error, config)
            InboundMessage.objects.create(
                received_at=item.received_at,
                sending_application=item.header.sending_application[:200],
                control_id=item.header.control_id[:200],
                peer=item.peer[:200],
                outcome=InboundMessage.Outcome.ERROR,
                ack_code=_ack_code(ack),
                ack=ack,
                detail=error.message,
                raw_message=item.text,
                dead_letter=letter,
            )
    except Exception:
        log.exception("and it could not be dead-lettered either")
    return ack


def commit(items: list[Received], config: ListenerConfig) -> list[str]:
    """Store a group in one transaction and return the ACKs, in order — each valid only once this returns, after
    the commit. If the group's transaction fails (a lost connection, a batch committed meanwhile by another
    listener), each message is tried again on its own, so one cannot sink the others."""
    try:
        with transaction.atomic():
            plans = store_group(items, config)
        return [p.ack for p in plans]
    except Exception:
        if len(items) == 1:
            log.exception("HL7 message could not be stored")
            return [_last_resort(items[0], config)]
        log.warning("HL7 group of %d failed; storing its messages one by one", len(items), exc_info=True)
        return [commit([item], config)[0] for item in items]


def handle(text: str, config: ListenerConfig | None = None) -> str:
    """Process one message on its own (a group of one) and return its acknowledgement (never raises)."""
    config = config or ListenerConfig()
    close_old_connections()
    try:
        return commit([receive(text, config, peer=current_peer())], config)[0]
    finally:
        # Handlers run on the event loop's worker threads, which outlive any one message: close this thread's
        # connection rather than leave it idle on a thread Django will never see again.
        connections.close_all()


# SQLite (WAL): a commit appends the pages it changed to the WAL (about a hundred for a group of four messages: the
# samples' unique index is led by run and parameter, so each parameter of each run is a page of its own); a
# checkpoint copies them back into the database file and syncs it. Left to the writer's connection, that happened
# after every ~9th commit (SQLite's default of 1 000 pages) and cost the writer ~1.5 ms per group on average, on
# the path of every acknowledgement. The writer's connection now checkpoints only past WRITER_AUTOCHECKPOINT_PAGES
# (a safety net); a checkpointer thread with its own connection copies the WAL back every CHECKPOINT_EVERY_S while
# commits go on (PASSIVE: it never blocks the writer). Durability is unchanged: an ACK still follows its commit.
WRITER_AUTOCHECKPOINT_PAGES = 10_000  # at most ~40 MB of WAL before the writer checkpoints itself
CHECKPOINT_EVERY_S = 0.25


class Ingestor:
    """The listener's handler with group commit, called from the event loop (:meth:`submit`) or any thread
    (``Ingestor(config)(text) -> ack``).

    Each message is handed to one writer thread with a future for its ACK. The writer takes whatever messages are
    waiting — and, when the previous group was larger, waits up to ``window_s`` for as many (the senders it just
    answered are about to send again), triaging each message as it takes it — stores them in one transaction and,
    after the commit, resolves each future with its own ACK. Under load the groups grow by themselves: whatever
    arrives while one group commits forms the next. One writer per process: SQLite has one writer anyway, and on
    PostgreSQL a group amortises the commit (the fsync) over all its messages. The writer keeps its database
    connection between groups (closing it after an error); on SQLite a checkpointer thread keeps the WAL short off
    the writer's path. Several listener processes can run side by side: all shared state (idempotency, bindings,
    the evaluation queue) is read from the database in each group's transaction. ``on_commit`` is called after
    each group (the listener wakes its evaluator).
    """

    def __init__(
        self,
        config: ListenerConfig | None = None,
        *,
        window_s: float = 0.002,
        max_wait_s: float = 0.010,
        max_group: int = 256,
        on_commit: Callable[[], None] | None = None,
        start: bool = True,
    ) -> None:
        self.config = config or ListenerConfig()
        self.window_s = window_s
        self.max_wait_s = max_wait_s  # kept for callers; the adaptive window never waits longer than window_s
        self.max_group = max_group
        self.on_commit = on_commit
        self.groups = 0
        self.messages = 0
        self.checkpoints = 0
        self._queue: queue.SimpleQueue[tuple[str, str, dt.datetime, Future[str]] | None] = queue.SimpleQueue()
        self._expected = 1  # the size of the last group: how many senders are likely to send again at once
        self._thread = threading.Thread(target=self._run, name="ecmo-hl7-writer", daemon=True)
        self._stopped = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="ecmo-hl7-checkpointer", daemon=True
        )
        self._tuned: object = (
            None  # the writer's DB-API connection once set up (see WRITER_AUTOCHECKPOINT_PAGES)
        )
        if start:
            self.start()

    def start(self) -> None:
        """Start the writer (done by the constructor unless ``start=False``)."""
        self._thread.start()
        if connection.vendor == "sqlite":
            self._checkpointer.start()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(self, text: str, peer: str = "") -> Future[str]:
        """Queue one message; the future resolves to its ACK once its group has committed (never raises)."""
        future: Future[str] = Future()
        self._queue.put((text, peer or self.config.peer, timezone.now(), future))
        return future

    def __call__(self, text: str) -> str:
        return self.submit(text, current_peer()).result()

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        self._stopped.set()
        if self._checkpointer.is_alive():
            self._checkpointer.join(timeout)

    def _triaged(self, entry: tuple[str, str, dt.datetime, Future[str]]) -> tuple[Received, Future[str]]:
        text, peer, at, future = entry
        try:
            return _received(text, self.config, peer, at), future
        except Exception:  # never leave a sender without an answer: a triage of None is answered 207
            log.exception("HL7 message could not be read")
            return Received(text, peer or self.config.peer, at, hl7v2.MessageHeader(), None), future

    def _take(self) -> list[tuple[Received, Future[str]]] | None:
        """The next group, each message triaged as it is taken: while the writer waits for the rest of a group it
        parses what has arrived (CPU only, before the transaction)."""
        first = self._queue.get()
        if first is None:
            return None
        group = [self._triaged(first)]
        deadline = time.monotonic() + self.window_s
        while len(group) < self.max_group:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                wait = deadline - time.monotonic()
                if len(group) >= self._expected or wait <= 0:
                    break
                try:
                    nxt = self._queue.get(timeout=wait)
                except queue.Empty:
                    break
            if nxt is None:
                self._queue.put(None)  # finish this group, then stop
                break
            group.append(self._triaged(nxt))
        self._expected = len(group)
        return group

    def _run(self) -> None:
        try:
            while (group := self._take()) is not None:
                _reuse_connection()
                try:
                    self._tune_connection()
                    acks = commit([item for item, _ in group], self.config)
                except BaseException as exc:  # never leave a sender waiting for an answer
                    connection.close()
                    for _, future in group:
                        future.set_exception(exc)
                    continue
                self.groups += 1
                self.messages += len(group)
                for (_, future), ack in zip(group, acks, strict=True):
                    future.set_result(ack)
                if self.on_commit is not None:
                    self.on_commit()
        finally:
            connections.close_all()

    def _tune_connection(self) -> None:
        """On SQLite, leave checkpoints to the checkpointer thread (once per connection the writer opens)."""
        if connection.vendor != "sqlite":
            return
        connection.ensure_connection()
        if connection.connection is not self._tuned:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
            self._tuned = connection.connection

    def _checkpoint_loop(self) -> None:
        """SQLite: copy the WAL back into the database every CHECKPOINT_EVERY_S while groups are being committed."""
        done = 0
        try:
            while not self._stopped.wait(CHECKPOINT_EVERY_S):
                if self.groups == done:
                    continue
                done = self.groups
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.checkpoints += 1
                except Exception:  # the writer's own connection still checkpoints past its limit
                    log.warning("WAL checkpoint failed; retrying", exc_info=True)
                    connection.close()
        finally:
            connections.close_all()


def _reuse_connection() -> None:
    """Keep the writer's connection between groups (``close_old_connections`` would reconnect to SQLite for every
    group, since CONN_MAX_AGE is 0 there), unless an error since the last commit left it unusable."""
    if connection.connection is None:
        return
    if connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"]:
        connection.close()
    elif connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()


def purge_inbound_messages(*, now: dt.datetime, retention_days: int | None = None) -> int:
    """Delete logged messages older than the retention (``ECMO_HL7_LOG_RETENTION_DAYS``, default 30 days); the
    surveillance worker calls this once a pass. Returns how many were deleted."""
    days = retention_days if retention_days is not None else retention_days_setting()
    if days <= 0:
        raise ValueError("the inbound message retention must be a positive number of days")
    cutoff = now - dt.timedelta(days=days)
    with transaction.atomic():
        deleted, _ = InboundMessage.objects.filter(received_at__lt=cutoff).delete()
        if deleted:
            audit(
                MLLP,
                "hl7.log_purged",
                object_type="surveillance.inboundmessage",
                object_id=f"before {cutoff:%Y-%m-%d}",
                after={"deleted": deleted, "retention_days": days},
            )
    return deleted


def retention_days_setting() -> int:
    return int(getattr(settings, "ECMO_HL7_LOG_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


DEFAULT_RETENTION_DAYS = 30


@transaction.atomic
def reprocess_dead_letter(*, actor: Any, letter: DeadLetter, now: dt.datetime | None = None) -> int:
    """Process a dead-lettered message again, now that its console or bed is associated (or its patient's run has
    started): stored exactly as if it had just arrived, within the letter's program. Returns how many samples were
    stored; raises ValidationError naming the reason when it still cannot be stored (nothing is written then)."""
    require(actor, "circuit.edit", letter)
    if letter.reprocessed_at is not None:
        raise ValidationError({"dead_letter": "this message has already been re-processed"})
    now = now or timezone.now()
    config = ListenerConfig(program_ids=frozenset({letter.program_id}) if letter.program_id else None)
    item = receive(letter.raw_message, config, peer=letter.peer)
    plan = store_group([item], config, now=now, reprocessed=True, actor=actor)[0]
    if plan.error is not None:
        raise ValidationError({"dead_letter": f"still cannot be stored: {plan.error.message}"})
    assert plan.run is not None
    letter.reviewed_by, letter.reviewed_at, letter.reprocessed_at = actor, now, now
    letter.review_note = (f"re-processed: {len(plan.new)} stored on run {plan.run.pk}")[:500]
    letter.save(update_fields=["reviewed_by", "reviewed_at", "reprocessed_at", "review_note"])
    audit(
        actor,
        "hl7.dead_letter_reprocessed",
        letter,
        after={"run": plan.run.pk, "stored": len(plan.new), "already_held": plan.duplicates},
    )
    return len(plan.new)
