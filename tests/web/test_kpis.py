"""KPIs over the database: ``GET /api/v1/kpis`` and the dashboard, computed from records whose answers were worked
out by hand.

Program North (Europe/London: UTC in November). Period 1–3 November 2026; now 10 November.
- run A, V-V, 31 Oct 18:00 → 1 Nov 06:00, weaned, survived to discharge: 0.25 ECMO days inside the period
- run B, V-A, 1 Nov 12:00 → 2 Nov 12:00, died on ECMO: 1.0 day; oxygenator replaced 1 Nov 23:00 (a change);
  an air alert at 13:00 acknowledged at 13:05; anti-Xa target 0.3–0.5 with labs 0.2 (14:00) and 0.4 (20:00);
  an adverse event at 20:00; a circuit-change decision with a perfusionist participant
- run C, V-V, 2 Nov 18:00 → on ECMO: 0.25 day (clipped at the period's end); checks at 18:30, 19:30, 20:30;
  a decision without perfusion
- an M&M case on run A (ended before the case) opened 2 Nov with perfusion input

Checklist: every KPI below from those records; an empty period; the mode and unit filters; bad input is a 400
naming the field; who may read KPIs (researcher yes, as aggregates; admin no; outsider 404); the dashboard shows
the tiles and the chart data; every KPI has a docs page.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine

from ecmo_core import quality as core
from ecmo_core.surveillance import Sample
from ecmo_web.decisions import actions as decisions
from ecmo_web.quality import actions
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions as surveillance
from ecmo_web.surveillance.models import Alert
from tests.web.surveil_support import fit

NOV = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
PERIOD = {"start": "2026-11-01", "end": "2026-11-03"}
QUERIES = 21  # pinned: see test_the_kpi_queries_do_not_grow_with_the_records


def _start(program: Any, user: Any, code: str, mode: str, at: dt.datetime, location: str = "") -> EcmoRun:
    run = run_actions.start_run(
        actor=user,
        program=program,
        patient_code=code,
        sex="male",
        birth_year=1970,
        indication="respiratory" if mode == "vv" else "cardiac",
        mode=mode,
        started_at=at,
        location=location,
    )
    return run


@pytest.fixture
def records(program: Any, personas: dict[str, Any]) -> dict[str, EcmoRun]:
    p = personas["perfusionist"]
    a = _start(program, p, "TEST-A", "vv", NOV - 6 * H, "CICU bed 1")
    fit(a, p, "oxygenator", NOV - 6 * H)
    run_actions.end_run(actor=p, run=a, ended_at=NOV + 6 * H, outcome="weaned")
    EcmoRun.objects.filter(pk=a.pk).update(survived_to_discharge=True)

    b = _start(program, p, "TEST-B", "va", NOV + 12 * H, "MICU bed 2")
    fit(b, p, "oxygenator", NOV + 12 * H)
    fit(b, p, "oxygenator", NOV + 23 * H, reason="rising ΔP")
    surveillance.ingest_samples(
        actor_or_system=surveillance.DEMO,
        run=b,
        samples=[Sample(NOV + 13 * H, "bubble_detected", 1.0)],
        now=NOV + 13 * H,
    )
    alert = Alert.objects.get(run=b, rule_id="air.detected")
    surveillance.acknowledge_alert(actor=p, alert=alert, now=NOV + 13 * H + 5 * dt.timedelta(minutes=1))
    run_actions.set_target(
        actor=p, run=b, parameter="anti_xa_iu_ml", low=0.3, high=0.5, effective_from=NOV + 12 * H
    )
    surveillance.ingest_samples(
        actor_or_system=p,
        run=b,
        samples=[Sample(NOV + 14 * H, "anti_xa_iu_ml", 0.2), Sample(NOV + 20 * H, "anti_xa_iu_ml", 0.4)],
        source="lab",
        now=NOV + 20 * H,
        evaluate=False,
    )
    actions.record_adverse_event(
        actor=p, run=b, code="mech.oxygenator_failure", severity="moderate", onset_at=NOV + 20 * H, now=NOW
    )
    decisions.record_decision(
        actor=p,
        run=b,
        kind="circuit_change",
        title="Change the oxygenator",
        made_at=NOV + 22 * H,
        content={"reason": "ΔP", "component_kind": "oxygenator", "urgency": "planned"},
        participants=[{"user": p.pk}, {"user": personas["intensivist"].pk}],
        decided_by=personas["intensivist"],
    )
    run_actions.end_run(actor=p, run=b, ended_at=NOV + 36 * H, outcome="died_on_ecmo")
    EcmoRun.objects.filter(pk=b.pk).update(survived_to_discharge=False)

    c = _start(program, p, "TEST-C", "vv", NOV + 42 * H, "CICU bed 3")
    for minute in (30, 90, 150):
        surveillance.record_check(
            actor=p,
            run=c,
            observed_at=NOV + 42 * H + dt.timedelta(minutes=minute),
            data={"blood_flow_l_min": 4.0, "pump_speed_rpm": 3300},
            now=NOV + 42 * H + dt.timedelta(minutes=minute),
        )
    decisions.record_decision(
        actor=personas["intensivist"],
        run=c,
        kind="circuit_change",
        title="Plan a circuit change",
        made_at=NOV + 44 * H,
        content={"reason": "Fibrin", "component_kind": "oxygenator", "urgency": "planned"},
        participants=[{"user": personas["intensivist"].pk}],
        decided_by=personas["intensivist"],
    )
    with time_machine.travel(NOV + 40 * H, tick=False):
        case = actions.open_case(actor=personas["quality"], run=a, title="Review of run A")
        actions.add_contribution(actor=p, case=case, text="Circuit uneventful")
    return {"a": a, "b": b, "c": c}


def _kpis(client: Any, **params: str) -> dict[str, dict[str, Any]]:
    with time_machine.travel(NOW, tick=False):
        response = client.get("/api/v1/kpis", {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return {k["key"]: k for k in response.json()}


def test_it_computes_every_kpi_from_the_records(
    records: dict[str, EcmoRun], personas: dict[str, Any], client_for: Any
) -> None:
    k = _kpis(client_for(personas["quality"]))
    assert k["runs"]["value"] == 3
    # 0.25 (A from midnight) + 1.0 (B) + 0.25 (C to the period's end) = 1.5 ECMO days
    assert k["ecmo_days"]["value"] == pytest.approx(1.5)
    assert (k["survival_to_decannulation"]["numerator"], k["survival_to_decannulation"]["denominator"]) == (
        1,
        2,
    )
    assert k["survival_to_decannulation_vv"]["value"] == 1.0
    assert k["survival_to_decannulation_va"]["value"] == 0.0
    assert k["survival_to_discharge"]["value"] == pytest.approx(0.5)
    # 1 complication and 1 oxygenator change over 1.5 ECMO days: 1 / 1.5 × 1000 = 666.7
    assert k["complications_per_1000_ecmo_days"]["value"] == pytest.approx(666.667, rel=1e-4)
    assert k["circuit_changes_per_1000_ecmo_days"]["numerator"] == 1
    # Oxygenators removed in the period: A 12 h (at decannulation), B 11 h and 13 h → median 12 h
    assert (k["oxygenator_life_hours"]["value"], k["oxygenator_life_hours"]["denominator"]) == (12.0, 3)
    assert k["alert_acknowledgement_minutes"]["value"] == pytest.approx(5.0)
    # B: 0.2 → 0.4 over 6 h against 0.3–0.5: in range for half the line = 3 of 6 h
    assert k["anticoagulation_time_in_range"]["value"] == pytest.approx(0.5)
    # Slots: A 6 (00–06), B 24, C 6 (18–24); checks fill 3 of C's → 3 of 36
    assert (k["hourly_check_completeness"]["numerator"], k["hourly_check_completeness"]["denominator"]) == (
        3,
        36,
    )
    assert (
        k["decisions_with_perfusionist"]["numerator"],
        k["decisions_with_perfusionist"]["denominator"],
    ) == (1, 2)
    assert k["mm_cases_with_perfusion_input"]["value"] == 1.0
    # Pooled: decisions 1 of 2 + M&M 1 of 1 = 2 of 3
    assert k["perfusion_involvement_index"]["value"] == pytest.approx(2 / 3)
    assert set(k["runs"]) == {"key", "label", "value", "numerator", "denominator", "unit"}


def test_it_filters_by_mode_and_unit(
    records: dict[str, EcmoRun], personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(personas["director"])
    vv = _kpis(client, mode="vv")
    assert vv["runs"]["value"] == 2
    assert vv["ecmo_days"]["value"] == pytest.approx(0.5)
    assert vv["complications_per_1000_ecmo_days"]["value"] == 0.0
    assert vv["mm_cases_with_perfusion_input"]["denominator"] == 1  # run A ended before the case: still V-V
    assert _kpis(client, mode="va")["mm_cases_with_perfusion_input"]["denominator"] == 0
    cicu = _kpis(client, unit="cicu")
    assert cicu["runs"]["value"] == 2


def test_an_empty_period_has_counts_of_zero_and_no_rates(
    records: dict[str, EcmoRun], personas: dict[str, Any], client_for: Any
) -> None:
    k = _kpis(client_for(personas["quality"]), start="2026-01-01", end="2026-01-02")
    assert (k["runs"]["value"], k["ecmo_days"]["value"]) == (0, 0)
    assert k["complications_per_1000_ecmo_days"]["value"] is None
    assert k["perfusion_involvement_index"]["value"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": ""}, "start"),
        ({"start": "1 November"}, "start"),
        ({"end": "2026-11-01"}, "end"),
        ({"end": "2026-11-03T00:00:00"}, "end"),
        ({"mode": "ecpr"}, "mode"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    personas: dict[str, Any], client_for: Any, params: dict[str, str], field: str
) -> None:
    response = client_for(personas["quality"]).get("/api/v1/kpis", {**PERIOD, **params})
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_who_reads_kpis(personas: dict[str, Any], client_for: Any, program: Any, other_program: Any) -> None:
    assert client_for(personas["researcher"]).get("/api/v1/kpis", PERIOD).status_code == 200
    assert client_for(personas["auditor"]).get("/api/v1/kpis", PERIOD).status_code == 200
    assert client_for(personas["admin"]).get("/api/v1/kpis", PERIOD).status_code == 403
    assert client_for(personas["nobody"]).get("/api/v1/kpis", PERIOD).status_code == 403
    outsider = client_for(personas["outsider"]).get("/api/v1/kpis", {**PERIOD, "program_id": program.pk})
    assert outsider.status_code == 404
    assert client_for(personas["researcher"]).get(f"/programs/{program.pk}/quality/").status_code == 200


def test_the_dashboard_draws_every_kpi(
    records: dict[str, EcmoRun], personas: dict[str, Any], client_for: Any, program: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        page = client_for(personas["quality"]).get(
            f"/programs/{program.pk}/quality/",
            {"start": "2026-10-01", "end": "2026-11-10", "mode": "", "unit": ""},
        )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Perfusion involvement index" in html and "ECMO days" in html
    series = json.loads(html.split('id="kpi-series" type="application/json">')[1].split("</script>")[0])
    assert {s["key"] for s in series} == {d.key for d in core.KPIS}
    ecmo_days = next(s for s in series if s["key"] == "ecmo_days")
    assert sum(v for v in ecmo_days["y"] if v) == pytest.approx(0.5 + 1.0 + 7.25)  # A whole, B, C until now
    with time_machine.travel(NOW, tick=False):
        bad = client_for(personas["quality"]).get(
            f"/programs/{program.pk}/quality/", {"start": "2026-11-03", "end": "2026-11-01"}
        )
    assert "must be after the start" in bad.content.decode()


def test_every_kpi_has_a_docs_page() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "kpis"
    from ecmo_web.quality.kpis import doc_page

    for definition in core.KPIS:
        page = docs / f"{doc_page(definition.key)}.md"
        assert page.exists(), page
        text = page.read_text()
        for heading in ("Numerator", "Denominator", "Exclusions", "Source"):
            assert heading in text, (page, heading)


def test_the_kpi_queries_do_not_grow_with_the_records(
    records: dict[str, EcmoRun], personas: dict[str, Any], client_for: Any, django_assert_num_queries: Any
) -> None:
    # One values-only query per kind of record (runs, modes, events, circuits, changes, components, alerts, labs,
    # targets, checks, rounds, decisions, ambulation, M&M, context runs …) plus the session and membership:
    # the same number for one run or a thousand.
    client = client_for(personas["quality"])
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(QUERIES):
        client.get("/api/v1/kpis", PERIOD)
