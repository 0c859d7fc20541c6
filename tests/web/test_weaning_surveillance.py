"""A weaning trial recorded as a decision reaches the surveillance rules.

- from its start until it is concluded, the run's surveillance facts list the trial (the pump rule stays quiet)
- a trial still running has no end
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_web.decisions import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.evaluation import RunFacts
from tests.web.conftest import T0

START = T0 + dt.timedelta(days=2)


def test_it_gives_the_rules_each_weaning_trial_interval(personas: dict[str, Any], run: EcmoRun) -> None:
    assert RunFacts.load(run).weaning == []
    decision = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="weaning_trial",
        title="Sweep-off trial",
        made_at=START,
        content={"trial_type": "vv_sweep_off", "started_at": START.isoformat()},
        decided_by=personas["intensivist"],
        participants=[{"user": personas["perfusionist"].pk}],
    )
    assert RunFacts.load(run).weaning == [(START, None)]
    end = START + dt.timedelta(hours=6)
    actions.conclude_trial(
        actor=personas["intensivist"],
        decision=decision,
        outcome="abandoned",
        concluded_at=end,
        reason="sedation hold",
    )
    assert RunFacts.load(run).weaning == [(START, end)]
