"""Tell the surveillance rules when a weaning trial is in progress.

The pump-head rule (`pump.flow_per_rpm_fall`) must stay quiet while flow is being reduced on purpose (core-api §4).
Weaning trials are decisions of kind "weaning trial" here; each runs from its ``content["started_at"]`` until it
is concluded (``completed_at``), or is still running. ``DecisionsConfig.contributions()`` declares it as a weaning
provider; surveillance reads it through ``contributions.weaning_providers()`` and never imports this app.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_web.decisions.models import Decision, Kind


def weaning_trials(run: Any) -> list[tuple[dt.datetime, dt.datetime | None]]:
    trials = []
    for content, completed_at in Decision.objects.filter(run=run, kind=Kind.WEANING_TRIAL).values_list(
        "content", "completed_at"
    ):
        started = content.get("started_at") if isinstance(content, dict) else None
        if started:
            trials.append((dt.datetime.fromisoformat(started), completed_at))
    return sorted(trials, key=lambda trial: trial[0])
