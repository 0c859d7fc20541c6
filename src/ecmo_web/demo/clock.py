"""Scenario time: "D6 14:21:10" on a run, in the program's zone, anchored to the seed day N; and "next 09:00",
the first 09:00 at least two hours after the seed, for what the story plans but has not yet happened (a planned
decannulation), so that no planned event is in the past without its outcome whatever the hour of seeding."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

_STAMP = re.compile(r"^D(?P<day>\d+) (?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?$")
_NEXT = re.compile(r"^next (?P<h>\d{1,2}):(?P<m>\d{2})$")
# A planned time is at least this far after the seed: still ahead while someone looks round the demo.
PLANNED_LEAD = dt.timedelta(hours=2)


@dataclass(frozen=True)
class ScenarioClock:
    """Maps a run's "Dk HH:MM[:SS]" to aware UTC. ``day_n`` is the seed day; run day ``n_day`` falls on it."""

    tz: zoneinfo.ZoneInfo
    day_n: dt.date
    now: dt.datetime | None = None

    @classmethod
    def for_now(cls, now: dt.datetime, tz_name: str) -> ScenarioClock:
        # Day N is the latest day whose scripted events (up to 21:00 local) are all in the past, so every story
        # event of the demo has happened, whatever the hour `make demo` runs.
        tz = zoneinfo.ZoneInfo(tz_name)
        return cls(tz=tz, day_n=(now.astimezone(tz) - dt.timedelta(hours=21)).date(), now=now)

    def at(self, n_day: int, stamp: str) -> dt.datetime:
        """Time of ``stamp`` on a run whose day N is D``n_day``."""
        planned = _NEXT.match(stamp)
        if planned is not None:
            return self.next_at(int(planned["h"]), int(planned["m"]))
        match = _STAMP.match(stamp)
        if match is None:
            raise ValueError(f"bad scenario time {stamp!r}")
        day0 = self.day_n - dt.timedelta(days=n_day)
        date = day0 + dt.timedelta(days=int(match["day"]))
        local = dt.datetime(
            date.year,
            date.month,
            date.day,
            int(match["h"]),
            int(match["m"]),
            int(match["s"] or 0),
            tzinfo=self.tz,
        )
        return local.astimezone(dt.UTC)

    def next_at(self, hour: int, minute: int) -> dt.datetime:
        """The first ``hour:minute`` (local) at least ``PLANNED_LEAD`` after the seed time."""
        if self.now is None:
            raise ValueError("a planned time (next HH:MM) needs the seed time")
        earliest = (self.now + PLANNED_LEAD).astimezone(self.tz)
        local = earliest.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if local < earliest:
            local = (local.replace(tzinfo=None) + dt.timedelta(days=1)).replace(tzinfo=self.tz)
        return local.astimezone(dt.UTC)
