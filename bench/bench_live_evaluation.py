"""The live path of the web layer: judging a run "now" after a new HL7 message, on a run with 7 days of minute
telemetry (8 parameters, ~80,000 stored samples) in SQLite.

Project: `load_timeline` reads only the rules' look-back window plus each component's baseline window, then
evaluates. Baseline: the obvious implementation — read the whole run's telemetry and evaluate. Both give the
same findings (checked).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from bench.common import Result, best_of

VALUES = {
    "blood_flow_l_min": 4.8, "pump_speed_rpm": 3400, "access_pressure_mmhg": -60,
    "pre_oxygenator_pressure_mmhg": 250, "post_oxygenator_pressure_mmhg": 234, "sweep_gas_l_min": 3.0,
    "fdo2": 1.0, "post_oxygenator_po2_mmhg": 480,
}  # fmt: skip
DAYS = 7


def _setup() -> tuple[object, dt.datetime]:
    tmp = Path(tempfile.mkdtemp(prefix="ecmo-bench-"))
    os.environ["ECMO_VAR_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecmo_web.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from ecmo_web.accounts.models import Membership, Program
    from ecmo_web.runs import actions
    from ecmo_web.surveillance.models import Sample

    call_command("migrate", verbosity=0)
    program = Program.objects.create(name="Bench")
    user = get_user_model().objects.create_user("bench")  # no password: never logs in
    Membership.objects.create(user=user, program=program, role="perfusionist")
    start = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    run = actions.start_run(
        actor=user,
        program=program,
        patient_code="BENCH-1",
        sex="male",
        birth_year=1970,
        indication="respiratory",
        mode="vv",
        started_at=start,
    )
    for kind in ("oxygenator", "pump_head"):
        actions.install_component(actor=user, run=run, kind=kind, maker="G", model=kind, installed_at=start)
    minutes = DAYS * 24 * 60
    Sample.objects.bulk_create(
        (Sample(run=run, parameter=p, observed_at=start + dt.timedelta(minutes=m), value=v, source="console",
                received_at=start + dt.timedelta(minutes=m))
         for m in range(minutes) for p, v in VALUES.items()),
        batch_size=5000,
    )  # fmt: skip
    return run, start + dt.timedelta(minutes=minutes - 1)


def run() -> Result:
    the_run, now = _setup()
    from ecmo_core.surveillance import PARAMETERS, evaluate
    from ecmo_core.surveillance.timeline import Timeline
    from ecmo_web.surveillance.evaluation import RunFacts, load_timeline, stored_sample
    from ecmo_web.surveillance.models import Sample, core_source

    def project() -> list[object]:
        facts = RunFacts.load(the_run)  # type: ignore[arg-type]
        timeline = load_timeline(facts, start=now, end=now)
        return evaluate(timeline, now=now, config=facts.config_at(now), context=facts.context_at(now))

    def baseline() -> list[object]:
        facts = RunFacts.load(the_run)  # type: ignore[arg-type]
        rows = Sample.objects.filter(run=the_run, parameter__in=list(PARAMETERS)).values_list(
            "observed_at", "parameter", "value", "source"
        )
        timeline = Timeline(stored_sample(a, p, v, core_source(s)) for a, p, v, s in rows)
        return evaluate(timeline, now=now, config=facts.config_at(now), context=facts.context_at(now))

    assert project() == baseline(), "project and baseline must agree"
    p, b = best_of(3, project, baseline)
    count = Sample.objects.filter(run=the_run).count()
    return Result(
        f"live evaluation after a message, {DAYS}-day run in SQLite", p, b, f"{count} samples stored"
    )
