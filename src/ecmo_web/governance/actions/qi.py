"""QI projects: create a project with its aim, add measures (linked to a KPI by key), record data points and
PDSA cycles (``governance.manage`` for projects and measures; ``qi.record`` for points and cycles)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from ecmo_web import kernel
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.governance import kpis
from ecmo_web.governance.actions._common import date_value, local_today, member, text, user_of
from ecmo_web.governance.models import MeasureKind, MeasurePoint, PdsaAct, PdsaCycle, QiMeasure, QiProject

KPI_KEY = re.compile(r"^[a-z][a-z0-9_.]{0,79}$")


@transaction.atomic
def create_project(
    *,
    actor: Any,
    program: Program,
    title: str,
    aim: str,
    started_on: dt.date,
    lead: Any = None,
) -> QiProject:
    kernel.require(actor, "governance.manage", program)
    project = QiProject(
        program=program,
        title=text(title, field="title", max_length=200),
        aim=text(aim, field="aim", max_length=4000),
        started_on=date_value(started_on, field="started_on"),
        lead=member(program, lead, field="lead") if lead not in (None, "") else None,
        created_by=user_of(actor),
    )
    project.save()
    kernel.audit(actor, "qi.project_created", project, after=snapshot(project))
    return project


@transaction.atomic
def add_measure(
    *,
    actor: Any,
    project: QiProject,
    name: str,
    kind: str = MeasureKind.OUTCOME,
    kpi_key: str = "",
    unit: str = "",
    higher_is_better: bool = True,
    baseline_points: int | None = None,
    computed: bool = False,
) -> QiMeasure:
    kernel.require(actor, "governance.manage", project)
    if kind not in MeasureKind.values:
        raise ValidationError({"kind": f"one of {', '.join(MeasureKind.values)}"})
    key = (kpi_key or "").strip()
    if key:
        known = kpis.keys()
        if known is not None and key not in known:
            raise ValidationError(
                {"kpi_key": f"{key!r} is not a program KPI (known: {', '.join(sorted(known))})"}
            )
        if not KPI_KEY.match(key):
            raise ValidationError({"kpi_key": "a KPI key: lower-case letters, digits, '_' and '.'"})
    if computed and not key:
        raise ValidationError({"computed": "link a program KPI to compute the measure from the records"})
    if computed and kpis.keys() is None:
        raise ValidationError(
            {"computed": "the program KPIs are not installed here: enter the points by hand"}
        )
    if baseline_points is not None and not 1 <= baseline_points <= 100:
        raise ValidationError({"baseline_points": "between 1 and 100 points, or empty for the median of all"})
    name = text(name, field="name", max_length=160)
    if project.measures.filter(name=name).exists():
        raise ValidationError({"name": "the project already has a measure of that name"})
    measure = QiMeasure(
        project=project,
        name=name,
        kind=kind,
        kpi_key=key,
        unit=text(unit, field="unit", max_length=40, required=False),
        higher_is_better=bool(higher_is_better),
        baseline_points=baseline_points,
        computed=bool(computed),
    )
    measure.save()
    kernel.audit(actor, "qi.measure_added", measure, after=snapshot(measure))
    return measure


@transaction.atomic
def record_point(
    *,
    actor: Any,
    measure: QiMeasure,
    period_start: dt.date,
    value: float,
    note: str = "",
    now: dt.datetime | None = None,
) -> MeasurePoint:
    """One value for the period starting ``period_start`` (one per period; a period cannot start in the future)."""
    kernel.require(actor, "qi.record", measure)
    if measure.computed:
        raise ValidationError({"value": "this measure is computed from the program's records, week by week"})
    now = now or timezone.now()
    program = measure.project.program
    period_start = date_value(period_start, field="period_start")
    if period_start > local_today(program, now):
        raise ValidationError({"period_start": "a period that has not started has no data yet"})
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError({"value": "must be a finite number"})
    point = MeasurePoint(
        measure=measure,
        period_start=period_start,
        value=float(value),
        note=text(note, field="note", max_length=200, required=False),
        recorded_by=user_of(actor),
    )
    try:
        with transaction.atomic():
            point.save()
    except IntegrityError:
        raise ValidationError(
            {"period_start": f"{period_start} already has a value for this measure"}
        ) from None
    kernel.audit(actor, "qi.point_recorded", point, after=snapshot(point))
    return point


def _cycle_dates(started_on: dt.date, ended_on: dt.date | None, today: dt.date) -> None:
    if started_on > today:
        raise ValidationError({"started_on": "a cycle is recorded once it has started"})
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": f"cannot be before the start ({started_on})"})
    if ended_on is not None and ended_on > today:
        raise ValidationError({"ended_on": "cannot be in the future"})


@transaction.atomic
def record_cycle(
    *,
    actor: Any,
    project: QiProject,
    change: str,
    plan: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    study: str = "",
    act: str = "",
    now: dt.datetime | None = None,
) -> PdsaCycle:
    """A PDSA cycle: the change and the plan (with its prediction); results (study) and the decision (act) may
    come now or later with :func:`conclude_cycle`."""
    kernel.require(actor, "qi.record", project)
    now = now or timezone.now()
    started_on = date_value(started_on, field="started_on")
    if ended_on is not None:
        ended_on = date_value(ended_on, field="ended_on")
    _cycle_dates(started_on, ended_on, local_today(project.program, now))
    if act and act not in PdsaAct.values:
        raise ValidationError({"act": f"one of {', '.join(PdsaAct.values)}"})
    if act and not study.strip():
        raise ValidationError(
            {"study": "say what the results showed before deciding to adopt, adapt or abandon"}
        )
    locked = QiProject.objects.select_for_update().get(pk=project.pk)  # numbers are taken one at a time
    number = (locked.cycles.aggregate(n=Max("number"))["n"] or 0) + 1
    cycle = PdsaCycle(
        project=project,
        number=number,
        change=text(change, field="change", max_length=200),
        plan=text(plan, field="plan", max_length=4000),
        started_on=started_on,
        ended_on=ended_on,
        study=text(study, field="study", max_length=4000, required=False),
        act=act,
        recorded_by=user_of(actor),
    )
    cycle.save()
    kernel.audit(actor, "qi.cycle_recorded", cycle, after=snapshot(cycle))
    return cycle


@transaction.atomic
def conclude_cycle(
    *,
    actor: Any,
    cycle: PdsaCycle,
    ended_on: dt.date,
    study: str,
    act: str,
    now: dt.datetime | None = None,
    version: int | None = None,
) -> PdsaCycle:
    """Record a cycle's results and what was decided; the earlier values stay in the audit trail.
    ``version``: the cycle's version the editor read (stale: kernel.VersionConflict, nothing saved)."""
    kernel.require(actor, "qi.record", cycle)
    kernel.lock(cycle)
    kernel.expect_version(cycle, version)
    now = now or timezone.now()
    ended_on = date_value(ended_on, field="ended_on")
    _cycle_dates(cycle.started_on, ended_on, local_today(cycle.project.program, now))
    if act not in PdsaAct.values:
        raise ValidationError({"act": f"one of {', '.join(PdsaAct.values)}"})
    before = snapshot(cycle, ["ended_on", "study", "act"])
    cycle.ended_on = ended_on
    cycle.study = text(study, field="study", max_length=4000)
    cycle.act = act
    cycle.save(update_fields=["ended_on", "study", "act"])
    kernel.audit(
        actor,
        "qi.cycle_concluded",
        cycle,
        before=before,
        after=snapshot(cycle, ["ended_on", "study", "act"]),
    )
    return cycle
