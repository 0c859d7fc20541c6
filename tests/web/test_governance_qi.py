"""QI projects: aim, measures linked to KPIs by key, data points, PDSA cycles, the run chart.

Spec checklist:
- governance.manage (quality officer, director) creates projects and measures; clinicians record data points
  and PDSA cycles (qi.record); auditors read; researchers never see the pages
- a measure's KPI key must be well formed (and a known KPI once the KPI registry is installed)
- a data point: one per period, finite, not for a period that has not started; refused input names its field
  and writes nothing
- PDSA cycles are numbered; an end before the start, a future end, or a decision (act) without results refused;
  concluding records results and the decision with the earlier values in the audit event
- the project page draws each measure's run chart from JSON holding the median and the flagged points, and says
  in words which shift or trend was found
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from ecmo_web.accounts.models import Program, Role
from ecmo_web.governance import kpis
from ecmo_web.governance.actions import qi
from ecmo_web.governance.models import MeasurePoint, PdsaCycle, QiMeasure, QiProject
from ecmo_web.permissions import MATRIX
from tests.web.conftest import T0
from tests.web.governance_support import TODAY, audit_count, make_measure, make_project
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False):
        yield


def test_it_lets_managers_create_projects_and_measures(personas: dict[str, Any], program: Program) -> None:
    project = make_project(personas, program)
    qi.add_measure(
        actor=personas["director"], project=project, name="Ack time", kpi_key="alert_acknowledgement_minutes"
    )
    assert audit_count("qi.project_created") == 1 and audit_count("qi.measure_added") == 1
    for role in (Role.PERFUSIONIST, Role.AUDITOR, Role.RESEARCHER):
        with pytest.raises(PermissionDenied):
            qi.create_project(actor=personas[role], program=program, title="x", aim="y", started_on=TODAY)
        with pytest.raises(PermissionDenied):
            qi.add_measure(actor=personas[role], project=project, name="z")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kpi_key": "Not A Key!"}, "kpi_key"),
        ({"kind": "vanity"}, "kind"),
        ({"baseline_points": 0}, "baseline_points"),
        ({"name": ""}, "name"),
        ({"name": "Completeness"}, "name"),  # already taken
    ],
)
def test_it_refuses_a_bad_measure(
    personas: dict[str, Any], program: Program, change: dict[str, Any], field: str
) -> None:
    project = make_project(personas, program)
    make_measure(personas, project)
    with pytest.raises(ValidationError) as err:
        qi.add_measure(actor=personas["quality"], project=project, **{"name": "Other", **change})
    assert field in err.value.error_dict
    assert QiMeasure.objects.count() == 1 and audit_count("qi.measure_added") == 1


def test_it_checks_the_kpi_key_against_the_registry_when_there_is_one(
    personas: dict[str, Any], program: Program
) -> None:
    project = make_project(personas, program)
    known = kpis.keys()
    if known is None:  # no KPI registry installed: any well-formed key is kept for later
        assert qi.add_measure(
            actor=personas["quality"], project=project, name="a", kpi_key="some_kpi"
        ).kpi_key
    else:
        with pytest.raises(ValidationError):
            qi.add_measure(actor=personas["quality"], project=project, name="a", kpi_key="no_such_kpi")
        key = sorted(known)[0]
        assert (
            qi.add_measure(actor=personas["quality"], project=project, name="b", kpi_key=key).kpi_key == key
        )


def test_it_records_one_point_per_period(personas: dict[str, Any], program: Program) -> None:
    measure = make_measure(personas, make_project(personas, program))
    qi.record_point(actor=personas["bedside_nurse"], measure=measure, period_start=TODAY, value=0.8)
    with pytest.raises(ValidationError) as err:
        qi.record_point(actor=personas["perfusionist"], measure=measure, period_start=TODAY, value=0.9)
    assert "period_start" in err.value.error_dict
    assert MeasurePoint.objects.get().value == 0.8 and audit_count("qi.point_recorded") == 1


@pytest.mark.parametrize(
    ("period_start", "value", "field"),
    [
        (TODAY + dt.timedelta(days=1), 1.0, "period_start"),
        (TODAY, float("nan"), "value"),
        (TODAY, float("inf"), "value"),
        (TODAY, True, "value"),
    ],
)
def test_it_refuses_a_bad_point(
    personas: dict[str, Any], program: Program, period_start: dt.date, value: Any, field: str
) -> None:
    measure = make_measure(personas, make_project(personas, program))
    with pytest.raises(ValidationError) as err:
        qi.record_point(
            actor=personas["perfusionist"], measure=measure, period_start=period_start, value=value
        )
    assert field in err.value.error_dict
    assert not MeasurePoint.objects.exists() and audit_count("qi.point_recorded") == 0


@pytest.mark.parametrize("role", [r for r in Role.values if "qi.record" not in MATRIX[r]])
def test_it_refuses_points_and_cycles_to_roles_without_qi_record(
    personas: dict[str, Any], program: Program, role: str
) -> None:
    project = make_project(personas, program)
    measure = make_measure(personas, project)
    with pytest.raises(PermissionDenied):
        qi.record_point(actor=personas[role], measure=measure, period_start=TODAY, value=1.0)
    with pytest.raises(PermissionDenied):
        qi.record_cycle(actor=personas[role], project=project, change="c", plan="p", started_on=TODAY)


def test_it_numbers_cycles_and_concludes_them(personas: dict[str, Any], program: Program) -> None:
    project = make_project(personas, program)
    first = qi.record_cycle(
        actor=personas["perfusionist"], project=project, change="Prompt", plan="+5 points", started_on=TODAY
    )
    second = qi.record_cycle(
        actor=personas["bedside_nurse"], project=project, change="Tablet", plan="0.9", started_on=TODAY
    )
    assert (first.number, second.number) == (1, 2)
    qi.conclude_cycle(
        actor=personas["perfusionist"], cycle=first, ended_on=TODAY, study="+7 points", act="adopt"
    )
    first.refresh_from_db()
    assert (first.ended_on, first.study, first.act) == (TODAY, "+7 points", "adopt")
    from ecmo_web.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="qi.cycle_concluded")
    assert event.before == {"ended_on": None, "study": "", "act": ""} and event.after["act"] == "adopt"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"started_on": TODAY + dt.timedelta(days=1)}, "started_on"),
        ({"ended_on": TODAY - dt.timedelta(days=5)}, "ended_on"),
        ({"act": "adopt"}, "study"),
        ({"act": "ignore", "study": "x"}, "act"),
        ({"plan": ""}, "plan"),
    ],
)
def test_it_refuses_a_bad_cycle(
    personas: dict[str, Any], program: Program, change: dict[str, Any], field: str
) -> None:
    project = make_project(personas, program)
    args: dict[str, Any] = {"change": "c", "plan": "p", "started_on": TODAY - dt.timedelta(days=2), **change}
    with pytest.raises(ValidationError) as err:
        qi.record_cycle(actor=personas["perfusionist"], project=project, **args)
    assert field in err.value.error_dict
    assert not PdsaCycle.objects.exists() and audit_count("qi.cycle_recorded") == 0


def test_it_refuses_to_conclude_with_a_future_end(personas: dict[str, Any], program: Program) -> None:
    cycle = qi.record_cycle(
        actor=personas["perfusionist"],
        project=make_project(personas, program),
        change="c",
        plan="p",
        started_on=TODAY,
    )
    with pytest.raises(ValidationError) as err:
        qi.conclude_cycle(
            actor=personas["perfusionist"],
            cycle=cycle,
            ended_on=TODAY + dt.timedelta(days=1),
            study="s",
            act="adopt",
        )
    assert "ended_on" in err.value.error_dict
    cycle.refresh_from_db()
    assert cycle.act == "" and audit_count("qi.cycle_concluded") == 0


def test_it_draws_the_run_chart_with_the_median_and_the_flagged_points(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    project = make_project(personas, program)
    measure = make_measure(personas, project)
    # 8 weekly points: 1 1 1 1 1 1 (six below the median) then 9 9. Sorted 1×6 9×2 → median (1 + 1) / 2 = 1.
    # All six 1s sit ON the median: no shift. The two 9s are above: 2 points, no shift. Nothing flagged.
    for week, value in enumerate([1, 1, 1, 1, 1, 1, 9, 9]):
        qi.record_point(
            actor=personas["perfusionist"],
            measure=measure,
            period_start=TODAY - dt.timedelta(weeks=8 - week),
            value=value,
        )
    rising = qi.add_measure(actor=personas["quality"], project=project, name="Rising")
    # 1 2 3 4 5: five points going up → a trend, every point flagged; median 3.
    for week, value in enumerate([1, 2, 3, 4, 5]):
        qi.record_point(
            actor=personas["perfusionist"],
            measure=rising,
            period_start=TODAY - dt.timedelta(weeks=5 - week),
            value=value,
        )
    page = client_for(personas["auditor"]).get(f"/qi/{project.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    flat = json.loads(
        html.split(f'id="runchart-{measure.pk}" type="application/json">')[1].split("</script>")[0]
    )
    assert flat["median"] == 1 and flat["flagged"] == [] and flat["signals"] == []
    trend = json.loads(
        html.split(f'id="runchart-{rising.pk}" type="application/json">')[1].split("</script>")[0]
    )
    assert trend["median"] == 3 and trend["flagged"] == [0, 1, 2, 3, 4]
    assert trend["signals"] == [
        {"rule": "trend", "direction": "up", "length": 5, "from": "2026-10-16", "to": "2026-11-13"}
    ]
    assert "5 points going up, 2026-10-16 to 2026-11-13" in html
    assert "Add the point" not in html  # auditors read only


def test_it_records_from_the_project_page(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    project = make_project(personas, program)
    measure = make_measure(personas, project)
    client = client_for(personas["bedside_nurse"])
    bad = client.post(
        f"/qi-measures/{measure.pk}/points/",
        {f"m{measure.pk}-period_start": "2026-12-01", f"m{measure.pk}-value": "1"},
    )
    assert bad.status_code == 400 and "has not started" in bad.content.decode()
    ok = client.post(
        f"/qi-measures/{measure.pk}/points/",
        {f"m{measure.pk}-period_start": "2026-11-16", f"m{measure.pk}-value": "0.85"},
    )
    assert ok.status_code == 302 and MeasurePoint.objects.get().value == 0.85
    ok = client.post(
        f"/qi/{project.pk}/cycles/",
        {"cycle-change": "Prompt", "cycle-plan": "+5", "cycle-started_on": "2026-11-10"},
    )
    assert ok.status_code == 302
    cycle = PdsaCycle.objects.get()
    bad = client.post(
        f"/pdsa/{cycle.pk}/conclude/",
        {
            f"pdsa{cycle.pk}-ended_on": "2026-11-01",
            f"pdsa{cycle.pk}-study": "s",
            f"pdsa{cycle.pk}-act": "adopt",
        },
    )
    assert bad.status_code == 400 and "cannot be before the start" in bad.content.decode()
    assert client.post(f"/qi/{project.pk}/measures/", {"measure-name": "x"}).status_code == 403


def test_it_creates_a_project_from_its_page(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    client = client_for(personas["quality"])
    assert client.get(f"/programs/{program.pk}/qi/new/").status_code == 200
    bad = client.post(
        f"/programs/{program.pk}/qi/new/", {"title": "T", "aim": "", "started_on": "2026-11-01"}
    )
    assert bad.status_code == 400 and not QiProject.objects.exists()
    ok = client.post(
        f"/programs/{program.pk}/qi/new/",
        {"title": "T", "aim": "95 %", "started_on": "2026-11-01", "lead": str(personas["perfusionist"].pk)},
    )
    assert ok.status_code == 302 and QiProject.objects.get().lead == personas["perfusionist"]
    assert client_for(personas["perfusionist"]).get(f"/programs/{program.pk}/qi/new/").status_code == 403
    assert client_for(personas["researcher"]).get(f"/qi/{QiProject.objects.get().pk}/").status_code == 403


def test_it_computes_a_measure_only_from_a_program_kpi(personas: dict[str, Any], program: Program) -> None:
    project = make_project(personas, program)
    with pytest.raises(ValidationError) as err:
        qi.add_measure(actor=personas["quality"], project=project, name="a", computed=True)
    assert "computed" in err.value.error_dict
    if kpis.keys() is None:
        with pytest.raises(ValidationError) as err:
            qi.add_measure(
                actor=personas["quality"], project=project, name="a", kpi_key="runs", computed=True
            )
        assert "computed" in err.value.error_dict
    assert not QiMeasure.objects.exists()


def test_it_computes_a_measure_week_by_week_from_its_kpi(
    personas: dict[str, Any], run: Any, client_for: Any
) -> None:
    # The run starts 2026-11-20 10:00 (T0) and is still on ECMO. Project from Monday 2026-11-02; now 2026-11-27 10:00:
    # 25 days 10 h = 3 complete weeks (2–9, 9–16, 16–23 Nov); "runs on ECMO at any moment of the week": 0, 0, 1.
    # The week from 23 Nov is still running and left out.
    project = qi.create_project(
        actor=personas["quality"], program=run.program, title="Runs", aim="a", started_on=dt.date(2026, 11, 2)
    )
    measure = qi.add_measure(
        actor=personas["quality"], project=project, name="Runs", kpi_key="runs", computed=True
    )
    now = T0 + dt.timedelta(days=7)
    assert kpis.weekly(measure, now) == [
        (dt.date(2026, 11, 2), 0.0),
        (dt.date(2026, 11, 9), 0.0),
        (dt.date(2026, 11, 16), 1.0),
    ]
    with pytest.raises(ValidationError) as err:
        qi.record_point(actor=personas["perfusionist"], measure=measure, period_start=TODAY, value=1.0)
    assert "value" in err.value.error_dict
    with time_machine.travel(now, tick=False):
        html = client_for(personas["auditor"]).get(f"/qi/{project.pk}/").content.decode()
    assert "Computed week by week from the program" in html and "Add the point" not in html
