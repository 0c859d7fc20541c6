"""The perfusion role profile: what perfusion did in each area of the ECMO continuum over a period.

The seed of this project is the contrast between the perfusionist as *technical operator* of the circuit and as
*clinical stakeholder* in the decisions around it. This module counts, from records the platform already holds
(nothing typed by hand), how often perfusion acted in each area, split into two scopes:

- ``technical``: circuit setup, hourly checks, component changes, troubleshooting, alerts handled, MCS devices;
- ``expanded``: candidacy and configuration, flow and anticoagulation targets, weaning and decannulation, rounds,
  transport and ambulation, M&M, audits and QI, policy sign-off, education delivered, research contributions.

The web layer collects one :class:`Record` per thing done (with the link to it); :func:`summarise` counts them
per area and :func:`by_month` draws the technical vs expanded trend. Records outside ``[start, end)`` are left
out, so a caller may hand over more than the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ecmo_core.errors import InputError

Scope = Literal["technical", "expanded"]


@dataclass(frozen=True)
class Area:
    key: str
    label: str
    scope: Scope


#: The areas, in the order pages show them. Apps may add areas (the web layer's profile sources), but these keys
#: are the public vocabulary of ``GET /api/v1/role-profile``.
AREAS: tuple[Area, ...] = (
    Area("circuit_setup", "Circuit setup (components, cannulas, primed circuits)", "technical"),
    Area("circuit_checks", "Hourly circuit checks", "technical"),
    Area("component_changes", "Component changes", "technical"),
    Area("troubleshooting", "Troubleshooting (alerts resolved)", "technical"),
    Area("alerts_handled", "Alerts acknowledged or escalated", "technical"),
    Area("mcs", "Concurrent MCS (settings and checks)", "technical"),
    Area("candidacy_configuration", "Candidacy, configuration and circuit selection decisions", "expanded"),
    Area("targets", "Flow and anticoagulation targets", "expanded"),
    Area("weaning_decannulation", "Weaning trials and decannulation", "expanded"),
    Area("rounds", "Rounds (attendance and perfusion sections)", "expanded"),
    Area("transport_ambulation", "Transport and ambulation", "expanded"),
    Area("mm", "Morbidity and mortality reviews", "expanded"),
    Area("audits_qi", "Audits and quality improvement", "expanded"),
    Area("policy_signoff", "Policy sign-off", "expanded"),
    Area("education", "Education delivered", "expanded"),
    Area("research", "Research contributions", "expanded"),
)
AREA_BY_KEY: dict[str, Area] = {a.key: a for a in AREAS}


@dataclass(frozen=True)
class Record:
    """One thing perfusion did: its area, when, a label and the link to the record behind it."""

    area: str
    at: datetime
    label: str = ""
    url: str = ""


@dataclass(frozen=True)
class AreaCount:
    area: str
    label: str
    scope: Scope
    count: int
    links: tuple[str, ...]


@dataclass(frozen=True)
class MonthCount:
    month: str  # "2026-11"
    technical: int
    expanded: int


def _check_period(start: datetime, end: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError(name, "must carry a time zone (aware datetime)")
    if end <= start:
        raise InputError("end", f"must be after start ({start.isoformat()})")


def _in_period(records: Iterable[Record], start: datetime, end: datetime) -> list[Record]:
    kept = []
    for record in records:
        if record.area not in AREA_BY_KEY:
            raise InputError("area", f"{record.area!r} is not one of {', '.join(AREA_BY_KEY)}")
        if start <= record.at < end:
            kept.append(record)
    return kept


def summarise(records: Iterable[Record], *, start: datetime, end: datetime) -> list[AreaCount]:
    """Every area (zero included), in ``AREAS`` order, with its count and links (oldest first, unique)."""
    _check_period(start, end)
    kept = sorted(_in_period(records, start, end), key=lambda r: r.at)
    result = []
    for area in AREAS:
        mine = [r for r in kept if r.area == area.key]
        links = tuple(dict.fromkeys(r.url for r in mine if r.url))
        result.append(AreaCount(area.key, area.label, area.scope, len(mine), links))
    return result


def scope_totals(counts: Sequence[AreaCount]) -> dict[Scope, int]:
    """Counts per scope: ``{"technical": n, "expanded": m}``."""
    totals: dict[Scope, int] = {"technical": 0, "expanded": 0}
    for item in counts:
        totals[item.scope] += item.count
    return totals


def by_month(records: Iterable[Record], *, start: datetime, end: datetime) -> list[MonthCount]:
    """Technical and expanded counts per calendar month (in the time zone of ``start``), every month of the
    period listed, empty ones included."""
    _check_period(start, end)
    tz = start.tzinfo
    months: dict[str, list[int]] = {}
    cursor = start.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # the period is [start, end): an end at midnight on the 1st does not open a new month
    last = (end.astimezone(tz) - timedelta(microseconds=1)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    while cursor <= last:
        months[f"{cursor:%Y-%m}"] = [0, 0]
        cursor = (
            cursor.replace(year=cursor.year + 1, month=1)
            if cursor.month == 12
            else cursor.replace(month=cursor.month + 1)
        )
    for record in _in_period(records, start, end):
        key = f"{record.at.astimezone(tz):%Y-%m}"
        months[key][0 if AREA_BY_KEY[record.area].scope == "technical" else 1] += 1
    return [MonthCount(month, technical, expanded) for month, (technical, expanded) in months.items()]
