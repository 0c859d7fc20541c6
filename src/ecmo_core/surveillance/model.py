"""The nouns of circuit surveillance: samples in, findings out, and the run context the rules need.

All datetimes are aware and converted to UTC on the way in; a naive datetime is an :class:`InputError`
because guessing a time zone for telemetry is how alerts end up an hour early or late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal, TypeAlias

from ecmo_core import validate
from ecmo_core.errors import InputError
from ecmo_core.surveillance.parameters import PARAMETERS, check_parameter, check_value

Status: TypeAlias = Literal["firing", "clear", "indeterminate"]
Severity: TypeAlias = Literal["info", "warning", "critical"]
EvidenceValue: TypeAlias = float | int | str | bool | None

STATUSES: tuple[Status, ...] = ("firing", "clear", "indeterminate")
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")

DEVICE = "device"
"""Source of console/monitor telemetry. Any other source ("check", "lab", "estimate") is hand-entered."""
CHECK = "check"
"""Source of values from the hourly circuit check; such a sample also documents that a check happened."""

CONFIGURATIONS: tuple[str, ...] = ("vv", "va", "vav", "vva")
"""ELSO Maastricht configurations, lower case without the dash (V-V → ``vv``, VV-A → ``vva``) [✔ S12]."""

ANTICOAGULATION_TESTS: tuple[str, ...] = ("anti_xa_iu_ml", "aptt_s", "act_s")
"""Parameter codes that can carry a run's anticoagulation target range."""


def utc(field_name: str, value: object) -> datetime:
    """Return an aware ``datetime`` in UTC; naive or non-datetime values raise :class:`InputError`."""
    if not isinstance(value, datetime):
        raise InputError(field_name, f"must be a date and time with a UTC offset, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            field_name,
            f"{value.isoformat()} has no time zone: give an aware datetime (UTC offset or Z)",
        )
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a trailing ``Z`` (``2025-01-06T04:00:00Z``), as used in evidence and JSON."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation of one parameter.

    Parameters
    ----------
    observed_at : aware datetime, stored in UTC (naive → ``InputError``).
    parameter : a parameter code of core-api §4 (see :data:`PARAMETERS`).
    value : float, within the parameter's plausible range (fractions 0–1, bubble 0/1).
    source : ``"device"`` (console telemetry, the default) or the name of a hand-entered source such as
        ``"check"`` (hourly circuit check), ``"lab"`` or ``"estimate"``. Rules use the device value while it
        is fresh and the latest hand-entered value otherwise; both are kept.
    """

    observed_at: datetime
    parameter: str
    value: float
    source: str = DEVICE

    def __post_init__(self) -> None:
        object.__setattr__(self, "observed_at", utc("observed_at", self.observed_at))
        check_parameter(self.parameter)
        object.__setattr__(self, "value", check_value(self.parameter, self.value))
        if not isinstance(self.source, str) or not self.source.strip() or len(self.source) > 64:
            raise InputError(
                "source", f"must be a non-empty name of at most 64 characters, got {self.source!r}"
            )

    @property
    def is_device(self) -> bool:
        """True for console telemetry; False for hand-entered values (checks, labs, estimates)."""
        return self.source == DEVICE


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule concluded at one moment.

    ``status`` is ``"firing"``, ``"clear"`` or ``"indeterminate"`` (the data it needs are missing or stale);
    ``severity`` is ``"info"``, ``"warning"`` or ``"critical"`` (clear and indeterminate findings are
    ``"info"``); ``message`` is in plain words with the values; ``evidence`` maps names to the values and
    ISO 8601 UTC times used (JSON-serialisable, read-only).
    """

    rule_id: str
    rule_version: int
    status: Status
    severity: Severity
    message: str
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate.choice("status", self.status, STATUSES)
        validate.choice("severity", self.severity, SEVERITIES)
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))


def _times(field_name: str, values: object) -> tuple[datetime, ...]:
    if isinstance(values, datetime):
        return (utc(field_name, values),)
    if not isinstance(values, Iterable) or isinstance(values, str | bytes | Mapping):
        raise InputError(field_name, f"must be a list of dates and times with a UTC offset, got {values!r}")
    return tuple(sorted(utc(f"{field_name}[{i}]", v) for i, v in enumerate(values)))


def _pairs(field_name: str, values: object) -> list[tuple[int, object, object]]:
    if not isinstance(values, Iterable) or isinstance(values, str | bytes | Mapping):
        raise InputError(field_name, f"must be a list of pairs, got {values!r}")
    result: list[tuple[int, object, object]] = []
    for i, pair in enumerate(values):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InputError(f"{field_name}[{i}]", f"must be a pair [start, end], got {pair!r}")
        result.append((i, pair[0], pair[1]))
    return result


def _latest_at_or_before(times: Iterable[datetime], now: datetime) -> datetime | None:
    past = [t for t in times if t <= now]
    return max(past) if past else None


@dataclass(frozen=True)
class RunContext:
    """What the rules need to know about the run besides its telemetry (all optional).

    Parameters
    ----------
    configuration : ``"vv"``, ``"va"``, ``"vav"`` or ``"vva"`` (``"V-V"`` is accepted and normalised);
        ``None`` = not recorded (configuration-specific rules are then ``indeterminate``).
    configuration_history : ``(since, configuration)`` pairs; the latest at or before ``now`` wins over
        ``configuration``. For replays across a change (V-A → V-AV).
    run_started_at : start of support; lets ``documentation.check_overdue`` fire before the first check.
    oxygenator_installed_at, pump_head_installed_at : install time of the *current* component.
    oxygenator_install_times, pump_head_install_times : every install time (for replays); at ``now`` the
        latest install at or before ``now`` (from either field) is the current component, and baselines are
        taken afresh after it.
    weaning_trial_active : a weaning trial is in progress now.
    weaning_trials : ``(start, end)`` intervals (``end`` ``None`` = still running), for replays.
    anticoagulation_targets : test code (``anti_xa_iu_ml``, ``aptt_s``, ``act_s``) → ``(low, high)``.
    last_check_at : time of the last hourly circuit check; ``check_times`` lists every check (for replays).
        Samples with source ``"check"`` count as checks too.
    """

    configuration: str | None = None
    configuration_history: tuple[tuple[datetime, str], ...] = ()
    run_started_at: datetime | None = None
    oxygenator_installed_at: datetime | None = None
    oxygenator_install_times: tuple[datetime, ...] = ()
    pump_head_installed_at: datetime | None = None
    pump_head_install_times: tuple[datetime, ...] = ()
    weaning_trial_active: bool = False
    weaning_trials: tuple[tuple[datetime, datetime | None], ...] = ()
    anticoagulation_targets: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    last_check_at: datetime | None = None
    check_times: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "configuration", _configuration("configuration", self.configuration, optional=True))
        history: list[tuple[datetime, str]] = []
        for i, since, name in _pairs("configuration_history", self.configuration_history):
            config = _configuration(f"configuration_history[{i}]", name, optional=False)
            assert config is not None  # optional=False never returns None
            history.append((utc(f"configuration_history[{i}]", since), config))
        setattr_(self, "configuration_history", tuple(sorted(history)))
        for name in ("run_started_at", "oxygenator_installed_at", "pump_head_installed_at", "last_check_at"):
            value = getattr(self, name)
            if value is not None:
                setattr_(self, name, utc(name, value))
        for name in ("oxygenator_install_times", "pump_head_install_times", "check_times"):
            setattr_(self, name, _times(name, getattr(self, name)))
        validate.boolean("weaning_trial_active", self.weaning_trial_active)
        trials: list[tuple[datetime, datetime | None]] = []
        for i, start, end in _pairs("weaning_trials", self.weaning_trials):
            start_utc = utc(f"weaning_trials[{i}]", start)
            end_utc = None if end is None else utc(f"weaning_trials[{i}]", end)
            if end_utc is not None and end_utc < start_utc:
                raise InputError(f"weaning_trials[{i}]", "ends before it starts")
            trials.append((start_utc, end_utc))
        setattr_(self, "weaning_trials", tuple(trials))
        setattr_(self, "anticoagulation_targets", _targets(self.anticoagulation_targets))

    # --- what holds at a given moment -----------------------------------------------------------------------
    def configuration_at(self, now: datetime) -> str | None:
        """The configuration in force at ``now``."""
        current = self.configuration
        for since, config in self.configuration_history:
            if since <= now:
                current = config
        return current

    def oxygenator_installed_as_of(self, now: datetime) -> datetime | None:
        """Install time of the oxygenator at ``now`` (``None``: unknown; baselines start at data begin)."""
        return _latest_at_or_before(
            (*self.oxygenator_install_times, *_opt(self.oxygenator_installed_at)), now
        )

    def pump_head_installed_as_of(self, now: datetime) -> datetime | None:
        """Install time of the pump head in use at ``now``."""
        return _latest_at_or_before((*self.pump_head_install_times, *_opt(self.pump_head_installed_at)), now)

    def weaning_at(self, now: datetime) -> bool:
        """True when a weaning trial is recorded as active at ``now``."""
        if self.weaning_trial_active:
            return True
        return any(start <= now and (end is None or now <= end) for start, end in self.weaning_trials)

    def last_check_as_of(self, now: datetime) -> datetime | None:
        """The latest recorded circuit check at or before ``now`` (``last_check_at`` and ``check_times``)."""
        return _latest_at_or_before((*self.check_times, *_opt(self.last_check_at)), now)


def _opt(value: datetime | None) -> tuple[datetime, ...]:
    return () if value is None else (value,)


def _configuration(field_name: str, value: object, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    normalised = value.lower().replace("-", "").strip() if isinstance(value, str) else value
    return validate.choice(field_name, normalised, CONFIGURATIONS)


def _targets(value: object) -> Mapping[str, tuple[float, float]]:
    if not isinstance(value, Mapping):
        raise InputError("anticoagulation_targets", f"must map a test to (low, high), got {value!r}")
    targets: dict[str, tuple[float, float]] = {}
    for test, bounds in value.items():
        name = f"anticoagulation_targets.{test}"
        validate.choice(name, test, ANTICOAGULATION_TESTS)
        if not isinstance(bounds, list | tuple) or len(bounds) != 2:
            raise InputError(name, f"must be a pair (low, high), got {bounds!r}")
        low = check_value(test, bounds[0], field=name)
        high = check_value(test, bounds[1], field=name)
        if not low < high:
            unit = PARAMETERS[test].unit
            raise InputError(name, f"low {low:g} {unit} must be below high {high:g} {unit}")
        targets[test] = (low, high)
    return MappingProxyType(targets)
