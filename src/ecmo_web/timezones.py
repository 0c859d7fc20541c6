"""Aware UTC in storage, the program's time zone on screen and in forms."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import overload

from ecmo_web.accounts.models import Program


def program_tz(program: Program | None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(program.time_zone if program is not None else "UTC")


@overload
def to_local(value: dt.datetime, program: Program | None) -> dt.datetime: ...
@overload
def to_local(value: None, program: Program | None) -> None: ...
@overload
def to_local(value: dt.datetime | None, program: Program | None) -> dt.datetime | None: ...
def to_local(value: dt.datetime | None, program: Program | None) -> dt.datetime | None:
    """``value`` in the program's time zone (UTC without a program); None stays None."""
    return value.astimezone(program_tz(program)) if value is not None else None


def from_local(value: dt.datetime, program: Program) -> dt.datetime:
    """Interpret a naive wall-clock time from a form in the program's zone; return aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=program_tz(program))
    return value.astimezone(dt.UTC)
