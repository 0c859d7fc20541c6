"""Quality indicators (KPIs) and clinical audit criteria, computed from plain records.

Pure functions over frozen dataclasses (no Django, no I/O, no clock: the caller passes ``now``). The web layer
loads runs, events, components, alerts, labs, checks and involvement records into a :class:`QualityData`,
optionally narrows it with :func:`filter_runs` (mode, unit), and calls :func:`compute_kpis` for a period.

Every KPI is a :class:`KpiDefinition` in :data:`KPIS` (key, label, unit, function); other apps (QI projects)
link their measures to a KPI by its key. Each KPI's numerator, denominator, exclusions and source are written
in ``docs/kpis/<key>.md``; the choices that matter:

- **ECMO days** are the run's time on ECMO clipped to the period (and to ``now`` for a run still on ECMO),
  in days with fractions: a run from 18:00 to 06:00 the next day is 0.5 ECMO days, and if the period ends at
  midnight only the 0.25 days before it count. Rates per 1000 ECMO days use these clipped days.
- **Survival** counts runs that *ended* in the period; runs still on ECMO, runs transferred on ECMO (outcome
  unknown here) and, for survival to discharge, runs whose discharge status is not yet known are excluded.
- **Medians** (oxygenator life, time to acknowledgement) report the median as the value, the number of items
  as the denominator and no numerator.
- **Time in therapeutic range** is Rosendaal's linear interpolation between consecutive measurements of a
  parameter that has a target, with pairs more than ``max_gap_hours`` apart excluded.
- **Hourly-check completeness** divides the run into 60-minute slots from its start; a slot wholly inside
  the run and the period is expected, and complete when at least one circuit check was observed in it.
- **Perfusion involvement** counts items (rounds entries, decisions, transports, ambulation sessions, M&M
  cases) whose people include a perfusion role; the index is the pooled share across all of them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from ecmo_core.errors import InputError

HOUR: Final = dt.timedelta(hours=1)
DAY_S: Final = 86400.0

# Outcomes (the web app's EcmoRun.outcome codes) that mean the patient left ECMO alive (ELSO "survived ECLS",
# reference.md §8.1 outcomes); death or withdrawal on ECMO mean not; ongoing and transferred are excluded.
ALIVE_OFF_ECMO: Final = frozenset({"weaned", "bridge_transplant", "bridge_vad"})
DIED_ON_ECMO: Final = frozenset({"died_on_ecmo", "withdrawn"})

# Mode groups for survival by mode (ELSO Maastricht nomenclature, reference.md §1.1): the run's first
# configuration decides its group.
MODE_GROUPS: Final[dict[str, frozenset[str]]] = {
    "vv": frozenset({"vv"}),
    "va": frozenset({"va"}),
    "hybrid": frozenset({"vav", "vva", "vpa"}),
}
MODE_LABELS: Final[dict[str, str]] = {"vv": "V-V", "va": "V-A", "hybrid": "hybrid and other"}

# Who counts as perfusion (the perfusion involvement index); a caller may pass its own set.
PERFUSION_ROLES: Final = frozenset({"perfusionist"})
INVOLVEMENT_KINDS: Final = ("rounds", "decision", "transport", "ambulation", "mm_case")

# Rosendaal TTR: consecutive measurements further apart than this are not interpolated (local practice ○).
TTR_MAX_GAP_HOURS: Final = 24.0


# --- records --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware datetimes."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is None:
                raise InputError(name, "must include a time zone")
        if self.end <= self.start:
            raise InputError("end", "must be after start")

    def contains(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    mode: str = ""  # the first configuration's mode code ("vv", "va", "vav" …)
    location: str = ""  # unit and bed, e.g. "CICU bed 4"
    outcome: str = "ongoing"
    survived_to_discharge: bool | None = None


@dataclass(frozen=True)
class EventRecord:
    """An adverse event (complication)."""

    run_id: int
    onset_at: dt.datetime
    category: str
    code: str
    action_recorded: bool = True


@dataclass(frozen=True)
class ChangeRecord:
    """A circuit change: a new circuit replacing the previous one, or a blood-path component replaced."""

    run_id: int
    at: dt.datetime
    what: str  # "circuit", "oxygenator", "pump_head", …


@dataclass(frozen=True)
class ComponentRecord:
    run_id: int
    kind: str
    installed_at: dt.datetime
    removed_at: dt.datetime | None = None


@dataclass(frozen=True)
class AlertRecord:
    run_id: int
    opened_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    severity: str = "warning"


@dataclass(frozen=True)
class LabRecord:
    run_id: int
    parameter: str
    observed_at: dt.datetime
    value: float


@dataclass(frozen=True)
class TargetRecord:
    run_id: int
    parameter: str
    effective_from: dt.datetime
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class CheckRecord:
    run_id: int
    observed_at: dt.datetime


@dataclass(frozen=True)
class InvolvementRecord:
    """One item of shared work and the roles of the people in it.

    ``kind``: ``rounds`` (a run's entry at a rounds session: the session's attendees and section authors),
    ``decision`` (its participants), ``transport`` and ``ambulation`` (the people recorded with them),
    ``mm_case`` (the roles of those who contributed input to the case)."""

    run_id: int
    kind: str
    at: dt.datetime
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QualityData:
    now: dt.datetime
    runs: tuple[RunRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    changes: tuple[ChangeRecord, ...] = ()
    components: tuple[ComponentRecord, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()
    labs: tuple[LabRecord, ...] = ()
    targets: tuple[TargetRecord, ...] = ()
    checks: tuple[CheckRecord, ...] = ()
    involvement: tuple[InvolvementRecord, ...] = ()
    # Runs outside the period that records in it refer to (an M&M case held after the run ended): used only
    # by the mode and unit filters, never counted.
    context_runs: tuple[RunRecord, ...] = ()
    perfusion_roles: frozenset[str] = field(default=PERFUSION_ROLES)


@dataclass(frozen=True)
class KpiValue:
    key: str
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str


KpiFunction = Callable[[QualityData, Period], KpiValue]


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: str
    unit: str
    function: KpiFunction
    description: str = ""


def filter_runs(data: QualityData, *, mode: str = "", unit: str = "") -> QualityData:
    """Keep the runs whose first configuration is ``mode`` (a mode code or group: ``vv``, ``va``, ``hybrid``)
    and whose location begins with ``unit`` (case-insensitive), and every record of those runs."""
    modes: frozenset[str] | None = None
    if mode:
        modes = MODE_GROUPS.get(mode, frozenset({mode}))
    keep = {
        r.run_id
        for r in (*data.runs, *data.context_runs)
        if (modes is None or r.mode in modes)
        and (not unit or r.location.casefold().startswith(unit.strip().casefold()))
    }
    return replace(
        data,
        runs=tuple(r for r in data.runs if r.run_id in keep),
        context_runs=tuple(r for r in data.context_runs if r.run_id in keep),
        events=tuple(r for r in data.events if r.run_id in keep),
        changes=tuple(r for r in data.changes if r.run_id in keep),
        components=tuple(r for r in data.components if r.run_id in keep),
        alerts=tuple(r for r in data.alerts if r.run_id in keep),
        labs=tuple(r for r in data.labs if r.run_id in keep),
        targets=tuple(r for r in data.targets if r.run_id in keep),
        checks=tuple(r for r in data.checks if r.run_id in keep),
        involvement=tuple(r for r in data.involvement if r.run_id in keep),
    )


# --- helpers --------------------------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    return numerator / denominator * scale if denominator else None


def _window_end(data: QualityData, period: Period) -> dt.datetime:
    """Nothing after ``now`` has happened yet: a period reaching into the future ends at ``now``."""
    return min(period.end, data.now)


def run_days_in_period(run: RunRecord, period: Period, now: dt.datetime) -> float:
    """The run's ECMO time inside the period, in days (fractions kept)."""
    start = max(run.started_at, period.start)
    end = min(run.ended_at or now, period.end, now)
    return max(0.0, (end - start).total_seconds() / DAY_S)


def _runs_in_period(data: QualityData, period: Period) -> list[RunRecord]:
    end = _window_end(data, period)
    return [r for r in data.runs if r.started_at < end and (r.ended_at is None or r.ended_at > period.start)]


def _ended_in_period(data: QualityData, period: Period) -> list[RunRecord]:
    return [r for r in data.runs if r.ended_at is not None and period.contains(r.ended_at)]


def _value(
    definition_key: str, value: float | None, numerator: float | None, denominator: float | None
) -> KpiValue:
    definition = _BY_KEY[definition_key]
    return KpiValue(definition.key, definition.label, value, numerator, denominator, definition.unit)


def _share(key: str, numerator: int, denominator: int) -> KpiValue:
    return _value(key, _ratio(numerator, denominator), numerator, denominator)


def _median(key: str, values: Sequence[float]) -> KpiValue:
    return _value(key, statistics.median(values) if values else None, None, len(values))


# --- KPI functions --------------------------------------------------------------------------------------------


def runs(data: QualityData, period: Period) -> KpiValue:
    """Runs on ECMO at any time in the period (started before its end, not ended before its start)."""
    count = len(_runs_in_period(data, period))
    return _value("runs", count, count, None)


def ecmo_days(data: QualityData, period: Period) -> KpiValue:
    days = sum(run_days_in_period(r, period, data.now) for r in data.runs)
    return _value("ecmo_days", days, days, None)


def _survival_to_decannulation(data: QualityData, period: Period, key: str, group: str | None) -> KpiValue:
    ended = [
        r
        for r in _ended_in_period(data, period)
        if (r.outcome in ALIVE_OFF_ECMO or r.outcome in DIED_ON_ECMO)
        and (group is None or r.mode in MODE_GROUPS[group])
    ]
    return _share(key, sum(r.outcome in ALIVE_OFF_ECMO for r in ended), len(ended))


def _survival_to_discharge(data: QualityData, period: Period, key: str, group: str | None) -> KpiValue:
    known = [
        r
        for r in _ended_in_period(data, period)
        if r.survived_to_discharge is not None and (group is None or r.mode in MODE_GROUPS[group])
    ]
    return _share(key, sum(bool(r.survived_to_discharge) for r in known), len(known))


def _rate_per_1000(key: str, count: int, data: QualityData, period: Period) -> KpiValue:
    days = ecmo_days(data, period).numerator or 0.0
    return _value(key, _ratio(count, days, 1000.0), count, days)


def complications_per_1000_ecmo_days(data: QualityData, period: Period) -> KpiValue:
    count = sum(period.contains(e.onset_at) and e.onset_at <= data.now for e in data.events)
    return _rate_per_1000("complications_per_1000_ecmo_days", count, data, period)


def circuit_changes_per_1000_ecmo_days(data: QualityData, period: Period) -> KpiValue:
    count = sum(period.contains(c.at) and c.at <= data.now for c in data.changes)
    return _rate_per_1000("circuit_changes_per_1000_ecmo_days", count, data, period)


def oxygenator_life_hours(data: QualityData, period: Period) -> KpiValue:
    """Median hours in use of the oxygenators removed in the period (those still in use are excluded)."""
    hours = [
        (c.removed_at - c.installed_at).total_seconds() / 3600.0
        for c in data.components
        if c.kind == "oxygenator" and c.removed_at is not None and period.contains(c.removed_at)
    ]
    return _median("oxygenator_life_hours", hours)


def alert_acknowledgement_minutes(data: QualityData, period: Period) -> KpiValue:
    """Median minutes from an alert opening to its acknowledgement, for alerts opened in the period and
    acknowledged (alerts never acknowledged are excluded here; the hourly audit finds them)."""
    minutes = [
        (a.acknowledged_at - a.opened_at).total_seconds() / 60.0
        for a in data.alerts
        if period.contains(a.opened_at) and a.acknowledged_at is not None
    ]
    return _median("alert_acknowledgement_minutes", minutes)


def _in_range_fraction(v0: float, v1: float, low: float | None, high: float | None) -> float:
    """The share of a straight line from v0 to v1 that lies within [low, high] (Rosendaal)."""
    lo = low if low is not None else float("-inf")
    hi = high if high is not None else float("inf")
    if v0 == v1:
        return 1.0 if lo <= v0 <= hi else 0.0
    a, b = min(v0, v1), max(v0, v1)
    overlap = min(b, hi) - max(a, lo)
    return max(0.0, overlap) / (b - a)


def _interpolate(a: LabRecord, b: LabRecord, at: dt.datetime) -> float:
    share = (at - a.observed_at).total_seconds() / (b.observed_at - a.observed_at).total_seconds()
    return a.value + (b.value - a.value) * share


def _target_at(targets: Sequence[TargetRecord], at: dt.datetime) -> TargetRecord | None:
    effective = [t for t in targets if t.effective_from <= at]
    return max(effective, key=lambda t: t.effective_from) if effective else None


def anticoagulation_ttr_hours(
    data: QualityData, period: Period, *, max_gap_hours: float = TTR_MAX_GAP_HOURS
) -> tuple[float, float]:
    """(hours in range, hours measured) inside the period, by Rosendaal interpolation per run and parameter."""
    in_range = measured = 0.0
    end = _window_end(data, period)
    groups: dict[tuple[int, str], list[LabRecord]] = {}
    for lab in data.labs:
        groups.setdefault((lab.run_id, lab.parameter), []).append(lab)
    for (run_id, parameter), labs in groups.items():
        targets = [t for t in data.targets if t.run_id == run_id and t.parameter == parameter]
        labs.sort(key=lambda lab: lab.observed_at)
        for first, second in itertools.pairwise(labs):
            span_h = (second.observed_at - first.observed_at).total_seconds() / 3600.0
            target = _target_at(targets, first.observed_at)
            if target is None or span_h <= 0 or span_h > max_gap_hours:
                continue
            lo_t, hi_t = max(first.observed_at, period.start), min(second.observed_at, end)
            if hi_t <= lo_t:
                continue

            hours = (hi_t - lo_t).total_seconds() / 3600.0
            measured += hours
            in_range += hours * _in_range_fraction(
                _interpolate(first, second, lo_t), _interpolate(first, second, hi_t), target.low, target.high
            )
    return in_range, measured


def anticoagulation_time_in_range(data: QualityData, period: Period) -> KpiValue:
    in_range, measured = anticoagulation_ttr_hours(data, period)
    return _value("anticoagulation_time_in_range", _ratio(in_range, measured), in_range, measured)


def check_slots(run: RunRecord, period: Period, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The run's 60-minute slots (counted from its start) that lie wholly inside the run and the period."""
    end = min(run.ended_at or now, period.end, now)
    start = max(run.started_at, period.start)
    if end <= start:
        return []
    # The first slot boundary at or after ``start``, counting whole hours from the run's start.
    offset_h = -(-(start - run.started_at) // HOUR)  # ceiling division of timedeltas
    slot = run.started_at + offset_h * HOUR
    slots = []
    while slot + HOUR <= end:
        slots.append((slot, slot + HOUR))
        slot += HOUR
    return slots


def _check_completeness_by_run(data: QualityData, period: Period) -> dict[int, tuple[int, int]]:
    checks: dict[int, list[dt.datetime]] = {}
    for c in data.checks:
        checks.setdefault(c.run_id, []).append(c.observed_at)
    result: dict[int, tuple[int, int]] = {}
    for run in data.runs:
        slots = check_slots(run, period, data.now)
        if not slots:
            continue
        # Slot k is [start + k h, start + (k + 1) h): index each check once instead of scanning per slot.
        filled = {(t - run.started_at) // HOUR for t in checks.get(run.run_id, []) if t >= run.started_at}
        done = sum((a - run.started_at) // HOUR in filled for a, _ in slots)
        result[run.run_id] = (done, len(slots))
    return result


def hourly_check_completeness(data: QualityData, period: Period) -> KpiValue:
    by_run = _check_completeness_by_run(data, period)
    done = sum(d for d, _ in by_run.values())
    expected = sum(n for _, n in by_run.values())
    return _share("hourly_check_completeness", done, expected)


def _involvement(data: QualityData, period: Period, kinds: Iterable[str]) -> tuple[int, int]:
    wanted = set(kinds)
    items = [i for i in data.involvement if i.kind in wanted and period.contains(i.at)]
    return sum(bool(i.roles & data.perfusion_roles) for i in items), len(items)


def _involvement_kpi(key: str, kind: str) -> KpiFunction:
    def compute(data: QualityData, period: Period) -> KpiValue:
        return _share(key, *_involvement(data, period, [kind]))

    compute.__name__ = key
    compute.__doc__ = f"Share of {kind} items in the period whose people include a perfusion role."
    return compute


def perfusion_involvement_index(data: QualityData, period: Period) -> KpiValue:
    return _share("perfusion_involvement_index", *_involvement(data, period, INVOLVEMENT_KINDS))


def _by_mode(kind: str, group: str | None) -> KpiFunction:
    key = f"survival_to_{kind}" + (f"_{group}" if group else "")
    base = _survival_to_decannulation if kind == "decannulation" else _survival_to_discharge

    def compute(data: QualityData, period: Period) -> KpiValue:
        return base(data, period, key, group)

    compute.__name__ = key
    return compute


def _survival_definitions() -> list[KpiDefinition]:
    out = []
    for kind, label in (
        ("decannulation", "Survival to decannulation"),
        ("discharge", "Survival to discharge"),
    ):
        out.append(KpiDefinition(f"survival_to_{kind}", label, "fraction", _by_mode(kind, None)))
        for group in MODE_GROUPS:
            out.append(
                KpiDefinition(
                    f"survival_to_{kind}_{group}",
                    f"{label}, {MODE_LABELS[group]}",
                    "fraction",
                    _by_mode(kind, group),
                )
            )
    return out


KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition("runs", "Runs", "runs", runs),
    KpiDefinition("ecmo_days", "ECMO days", "days", ecmo_days),
    *_survival_definitions(),
    KpiDefinition(
        "complications_per_1000_ecmo_days",
        "Complications per 1000 ECMO days",
        "per 1000 ECMO days",
        complications_per_1000_ecmo_days,
    ),
    KpiDefinition(
        "circuit_changes_per_1000_ecmo_days",
        "Circuit and component changes per 1000 ECMO days",
        "per 1000 ECMO days",
        circuit_changes_per_1000_ecmo_days,
    ),
    KpiDefinition("oxygenator_life_hours", "Oxygenator life (median)", "hours", oxygenator_life_hours),
    KpiDefinition(
        "alert_acknowledgement_minutes",
        "Time from alert to acknowledgement (median)",
        "minutes",
        alert_acknowledgement_minutes,
    ),
    KpiDefinition(
        "anticoagulation_time_in_range",
        "Anticoagulation time in therapeutic range",
        "fraction",
        anticoagulation_time_in_range,
    ),
    KpiDefinition(
        "hourly_check_completeness",
        "Hourly circuit-check completeness",
        "fraction",
        hourly_check_completeness,
    ),
    KpiDefinition(
        "rounds_with_perfusion",
        "Rounds attended by perfusion",
        "fraction",
        _involvement_kpi("rounds_with_perfusion", "rounds"),
    ),
    KpiDefinition(
        "decisions_with_perfusionist",
        "Decisions with a perfusionist participant",
        "fraction",
        _involvement_kpi("decisions_with_perfusionist", "decision"),
    ),
    KpiDefinition(
        "transports_with_perfusion",
        "Transports with perfusion",
        "fraction",
        _involvement_kpi("transports_with_perfusion", "transport"),
    ),
    KpiDefinition(
        "ambulation_with_perfusion",
        "Ambulation sessions with perfusion",
        "fraction",
        _involvement_kpi("ambulation_with_perfusion", "ambulation"),
    ),
    KpiDefinition(
        "mm_cases_with_perfusion_input",
        "M&M cases with perfusion input",
        "fraction",
        _involvement_kpi("mm_cases_with_perfusion_input", "mm_case"),
    ),
    KpiDefinition(
        "perfusion_involvement_index", "Perfusion involvement index", "fraction", perfusion_involvement_index
    ),
)
# One line per KPI family for screens ("how it is counted"); the full definition is docs/kpis/<family>.md.
_DESCRIPTIONS: Final[dict[str, str]] = {
    "runs": "Runs on ECMO at any moment of the period.",
    "ecmo_days": "Hours on ECMO inside the period ÷ 24, partial days as fractions; ongoing runs count to now.",
    "survival_to_decannulation": "Runs that ended in the period and came off ECMO alive, of those that ended "
    "(transferred runs excluded); by the run's first mode.",
    "survival_to_discharge": "Runs that ended in the period and were discharged alive, of those with a known "
    "discharge status; by the run's first mode.",
    "complications_per_1000_ecmo_days": "Adverse events with onset in the period ÷ ECMO days × 1000.",
    "circuit_changes_per_1000_ecmo_days": "New circuits and replaced oxygenators, pump heads and tubing packs in "
    "the period ÷ ECMO days × 1000.",
    "oxygenator_life_hours": "Median hours in use of the oxygenators removed in the period.",
    "alert_acknowledgement_minutes": "Median minutes from an alert opening to its acknowledgement (alerts opened "
    "in the period; never-acknowledged alerts excluded).",
    "anticoagulation_time_in_range": "Rosendaal interpolation between consecutive results against the run's "
    "target; gaps over 24 h excluded.",
    "hourly_check_completeness": "Whole hours of each run (counted from its start) with at least one circuit check.",
    "perfusion": "Rounds, decisions, transports, ambulation sessions and M&M cases in the period whose people "
    "include a perfusionist, of all of them.",
}


def _describe(definition: KpiDefinition) -> KpiDefinition:
    family = next((f for f in _DESCRIPTIONS if definition.key.startswith(f)), "perfusion")
    return replace(definition, description=_DESCRIPTIONS[family])


KPIS = tuple(_describe(d) for d in KPIS)
_BY_KEY: Final[dict[str, KpiDefinition]] = {k.key: k for k in KPIS}
assert len(_BY_KEY) == len(KPIS)


def kpi(key: str) -> KpiDefinition:
    """The definition of one KPI by key; raises InputError for an unknown key."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InputError("key", f"unknown KPI {key!r}; known: {', '.join(_BY_KEY)}") from None


def compute_kpis(data: QualityData, period: Period, keys: Sequence[str] | None = None) -> list[KpiValue]:
    """Every KPI (or those named in ``keys``) for the period, in :data:`KPIS` order."""
    wanted = [kpi(k) for k in keys] if keys is not None else list(KPIS)
    return [d.function(data, period) for d in wanted]


def periods(start: dt.datetime, end: dt.datetime, *, step_days: int) -> list[Period]:
    """Consecutive periods of ``step_days`` from ``start``; the last one ends at ``end`` (it may be shorter)."""
    if step_days < 1:
        raise InputError("step_days", "must be at least 1")
    whole = Period(start, end)
    out = []
    cursor = whole.start
    while cursor < whole.end:
        nxt = min(cursor + dt.timedelta(days=step_days), whole.end)
        out.append(Period(cursor, nxt))
        cursor = nxt
    return out


# --- audits ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditItem:
    """One case in an audit sample: what it is, when, and whether it met the criterion."""

    subject: str
    run_id: int
    at: dt.datetime
    compliant: bool
    note: str = ""


@dataclass(frozen=True)
class AuditResult:
    sample_count: int
    compliant_count: int
    items: tuple[AuditItem, ...]

    @property
    def compliance_fraction(self) -> float | None:
        return _ratio(self.compliant_count, self.sample_count)


AuditFunction = Callable[[QualityData, Period], list[AuditItem]]


@dataclass(frozen=True)
class AuditCriterion:
    key: str
    label: str
    description: str
    function: AuditFunction


# Criterion thresholds (local practice ○; an audit states its criterion with the number in its label).
CHECK_COMPLETENESS_STANDARD: Final = 0.9
ACKNOWLEDGE_WITHIN: Final = dt.timedelta(minutes=15)
TARGET_SET_WITHIN: Final = dt.timedelta(hours=6)


def _audit_checks(data: QualityData, period: Period) -> list[AuditItem]:
    by_run = _check_completeness_by_run(data, period)
    starts = {r.run_id: r.started_at for r in data.runs}
    return [
        AuditItem(
            subject=f"run {run_id}",
            run_id=run_id,
            at=starts[run_id],
            compliant=done / expected >= CHECK_COMPLETENESS_STANDARD,
            note=f"{done} of {expected} hours checked",
        )
        for run_id, (done, expected) in by_run.items()
    ]


def _audit_acknowledgement(data: QualityData, period: Period) -> list[AuditItem]:
    items = []
    for a in data.alerts:
        if not period.contains(a.opened_at):
            continue
        waited = (a.acknowledged_at or data.now) - a.opened_at
        items.append(
            AuditItem(
                subject=f"{a.severity} alert",
                run_id=a.run_id,
                at=a.opened_at,
                compliant=a.acknowledged_at is not None and waited <= ACKNOWLEDGE_WITHIN,
                note="not acknowledged"
                if a.acknowledged_at is None
                else f"{waited.total_seconds() / 60:.0f} min",
            )
        )
    return items


def _audit_target(data: QualityData, period: Period) -> list[AuditItem]:
    items = []
    for r in data.runs:
        if not period.contains(r.started_at):
            continue
        first = min((t.effective_from for t in data.targets if t.run_id == r.run_id), default=None)
        items.append(
            AuditItem(
                subject=f"run {r.run_id}",
                run_id=r.run_id,
                at=r.started_at,
                compliant=first is not None and first - r.started_at <= TARGET_SET_WITHIN,
                note="no target recorded"
                if first is None
                else f"target after {(first - r.started_at) / HOUR:.1f} h",
            )
        )
    return items


def _audit_event_action(data: QualityData, period: Period) -> list[AuditItem]:
    return [
        AuditItem(
            subject=e.code,
            run_id=e.run_id,
            at=e.onset_at,
            compliant=e.action_recorded,
            note="" if e.action_recorded else "no action recorded",
        )
        for e in data.events
        if period.contains(e.onset_at)
    ]


AUDIT_CRITERIA: Final[tuple[AuditCriterion, ...]] = (
    AuditCriterion(
        "hourly_checks_90",
        "Hourly circuit checks done for at least 90 % of ECMO hours",
        "Each run on ECMO in the period: compliant when at least 90 % of its whole hours have a circuit check.",
        _audit_checks,
    ),
    AuditCriterion(
        "alert_acknowledged_15_min",
        "Alerts acknowledged within 15 minutes",
        "Each alert opened in the period: compliant when acknowledged within 15 minutes of opening.",
        _audit_acknowledgement,
    ),
    AuditCriterion(
        "anticoagulation_target_6_h",
        "Anticoagulation target set within 6 hours of cannulation",
        "Each run started in the period: compliant when a target range was effective within 6 hours of the start.",
        _audit_target,
    ),
    AuditCriterion(
        "adverse_event_action_recorded",
        "Adverse events have the action taken recorded",
        "Each adverse event with onset in the period: compliant when the action taken is written down.",
        _audit_event_action,
    ),
)
_CRITERIA: Final[dict[str, AuditCriterion]] = {c.key: c for c in AUDIT_CRITERIA}


def audit_criterion(key: str) -> AuditCriterion:
    try:
        return _CRITERIA[key]
    except KeyError:
        raise InputError("criterion", f"unknown criterion {key!r}; known: {', '.join(_CRITERIA)}") from None


def run_audit(key: str, data: QualityData, period: Period, *, sample_size: int | None = None) -> AuditResult:
    """Apply a criterion to every eligible case in the period, or to the ``sample_size`` most recent ones."""
    if sample_size is not None and sample_size < 1:
        raise InputError("sample_size", "must be at least 1, or empty for every case")
    items = sorted(audit_criterion(key).function(data, period), key=lambda i: (i.at, i.run_id), reverse=True)
    if sample_size is not None:
        items = items[:sample_size]
    return AuditResult(len(items), sum(i.compliant for i in items), tuple(items))
