"""What the surveillance actions share: the system actors and an action's time."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from ecmo_web.kernel import SystemActor, aware, not_in_future

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
