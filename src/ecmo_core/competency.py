"""Competency currency: is a person current for a skill on a given date?

A competency is held from the day it was awarded through its expiry date (inclusive); one without an expiry date
never lapses. A person may hold the same competency several times (renewals): the latest expiry counts. The
status on ``today`` is one of

- ``"current"``: held, and the expiry is more than ``warn_days`` away (or there is none);
- ``"expiring"``: held, expiring within ``warn_days`` days (expiry − today ≤ warn_days);
- ``"expired"``: every award has lapsed (today is after the latest expiry);
- ``"missing"``: never awarded on or before today.

``warn_days`` is a program setting; 30 days is the default the program page uses (local practice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from ecmo_core.errors import InputError

# Local practice: a month's notice to book a renewal (drills and simulation run monthly in most programs).
DEFAULT_WARN_DAYS: Final = 30

Status = Literal["current", "expiring", "expired", "missing"]


@dataclass(frozen=True)
class Award:
    """One award of a competency: the day it was awarded and the last day it is valid (None: no expiry)."""

    awarded_on: dt.date
    expires_on: dt.date | None = None


@dataclass(frozen=True)
class Currency:
    status: Status
    expires_on: dt.date | None  # the expiry that decided the status (None: no expiry, or missing)
    days_left: int | None  # expires_on − today in days (negative once expired)


def currency(awards: Iterable[Award], today: dt.date, *, warn_days: int = DEFAULT_WARN_DAYS) -> Currency:
    """The status of one person's competency on ``today`` from its awards."""
    if isinstance(warn_days, bool) or not isinstance(warn_days, int) or not 0 <= warn_days <= 365:
        raise InputError("warn_days", f"must be a whole number of days from 0 to 365 (got {warn_days!r})")
    held = [a for a in awards if a.awarded_on <= today]
    for a in held:
        if a.expires_on is not None and a.expires_on < a.awarded_on:
            raise InputError("expires_on", f"{a.expires_on} is before the award date {a.awarded_on}")
    if not held:
        return Currency("missing", None, None)
    if any(a.expires_on is None for a in held):
        return Currency("current", None, None)
    latest = max(a.expires_on for a in held if a.expires_on is not None)
    days_left = (latest - today).days
    if days_left < 0:
        return Currency("expired", latest, days_left)
    if days_left <= warn_days:
        return Currency("expiring", latest, days_left)
    return Currency("current", latest, days_left)
