"""Plain records an export is built from (no ORM objects, no Django).

Times are aware datetimes (UTC). Numbers carry their unit in their name, as everywhere in ECMO Steward.
Identifiers (names, record numbers) live only in :attr:`PatientRecord.identifiers`, so a de-identified export
can be proven not to read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class PatientRecord:
    """``key`` is the program-local pseudonym shown on screens (e.g. ``DEMO-0001``).

    ``identifiers`` holds ``(kind, value)`` pairs: ``mrn``, ``name``, ``national`` …
    """

    key: str
    sex: str = "unknown"
    birth_year: int | None = None
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConfigurationRecord:
    """One configuration segment: ``mode`` (``vv``, ``va``, ``vav``, ``vva``, ``vpa``) from ``started_at``."""

    mode: str
    started_at: dt.datetime
    reason: str = ""


@dataclass(frozen=True)
class CannulaRecord:
    id: int
    purpose: str  # drainage, return, dual_lumen, distal_perfusion
    site: str  # e.g. right_internal_jugular
    size_fr: int
    inserted_at: dt.datetime
    removed_at: dt.datetime | None = None
    length_cm: int | None = None
    tip_position: str = ""
    maker_model: str = ""


@dataclass(frozen=True)
class ComponentRecord:
    """A circuit component. ``catalogued`` is true when maker and model come from the device catalogue."""

    id: int
    kind: str  # pump_head, oxygenator, tubing_pack, console, heater, other
    maker: str
    model: str
    installed_at: dt.datetime
    removed_at: dt.datetime | None = None
    lot: str = ""
    serial: str = ""
    reason_removed: str = ""
    catalogued: bool = False


@dataclass(frozen=True)
class CircuitRecord:
    id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    reason_ended: str = ""
    components: tuple[ComponentRecord, ...] = ()


@dataclass(frozen=True)
class McsRecord:
    """A concurrent mechanical circulatory support device (``iabp``, ``impella``, ``vad``, ``other``)."""

    id: int
    kind: str
    model: str
    inserted_at: dt.datetime
    removed_at: dt.datetime | None = None
    site: str = ""


@dataclass(frozen=True)
class Complication:
    """A complication (adverse event) coded with the ELSO complication list (``code`` such as
    ``mech.oxygenator_failure``, ``category`` such as ``mechanical``)."""

    id: int
    category: str
    code: str
    severity: str
    onset_at: dt.datetime
    label: str = ""
    component_id: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Measurement:
    """One value of a core-api §4 parameter (a lab result, a blood gas, a device value)."""

    parameter: str
    observed_at: dt.datetime
    value: float
    source: str = "device"


@dataclass(frozen=True)
class TelemetrySummary:
    """Summary of one parameter over one period (a calendar day in UTC, or the part of it on ECMO)."""

    parameter: str
    period_start: dt.datetime
    period_end: dt.datetime
    count: int
    mean: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class CheckRecord:
    """An hourly circuit check: numeric values by parameter code, yes/no items, and who recorded it."""

    id: int
    observed_at: dt.datetime
    recorded_by: str = ""
    values: tuple[tuple[str, float], ...] = ()
    items: tuple[tuple[str, bool], ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class RunRecord:
    id: int
    patient: PatientRecord
    indication: str  # respiratory, cardiac, ecpr
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    outcome: str = "ongoing"
    survived_to_discharge: bool | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    indication_detail: str = ""
    location: str = ""
    console_serial: str = ""
    program: str = ""
    configurations: tuple[ConfigurationRecord, ...] = ()
    cannulas: tuple[CannulaRecord, ...] = ()
    circuits: tuple[CircuitRecord, ...] = ()
    mcs_devices: tuple[McsRecord, ...] = ()
    complications: tuple[Complication, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    summaries: tuple[TelemetrySummary, ...] = ()
    checks: tuple[CheckRecord, ...] = ()

    @property
    def components(self) -> tuple[ComponentRecord, ...]:
        return tuple(c for circuit in self.circuits for c in circuit.components)

    def mode_segments(self) -> list[tuple[ConfigurationRecord, dt.datetime | None]]:
        """Each configuration with the time it ended (the next one's start, else the run's end)."""
        ordered = sorted(self.configurations, key=lambda c: c.started_at)
        if not ordered:
            return []
        ends: list[dt.datetime | None] = [c.started_at for c in ordered[1:]]
        ends.append(self.ended_at)
        return list(zip(ordered, ends, strict=True))
