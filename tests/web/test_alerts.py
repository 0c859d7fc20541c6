"""Alerts: transitions, acknowledgement, escalation, resolution, and where they show.

- a rule's state change is stored once as a transition (rule id and version); evaluating again stores nothing
- an alert opens when a rule fires and follows the rule until resolved; after resolution a new firing opens a new
  alert
- acknowledge (who, when, comment) from the run page (HTMX and plain POST) and the API; not twice
- escalation after a configurable time without acknowledgement, per severity, to a named role, with an audit
  event; `ecmo surveil --once` escalates and processes transitions (partial index on unprocessed rows)
- resolve with a comment, linked to the component fitted (or a record such as a decision)
- the run page panel lists open alerts, firing first; the run list has an "Open alerts" column (query count
  pinned); the program alerts page lists them by run
- roles: a pharmacist cannot acknowledge (403), an outsider sees nothing (404)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from ecmo_core.surveillance import Sample
from ecmo_web import contributions
from ecmo_web.audit.models import AuditEvent
from ecmo_web.contributions import Contributions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import Alert, AlertTransition
from tests.web.conftest import T0
from tests.web.surveil_support import fit, post_form, post_json

MIN = dt.timedelta(minutes=1)


def _bubble(run: EcmoRun, at: dt.datetime, value: float, now: dt.datetime | None = None) -> None:
    actions.ingest_samples(
        actor_or_system=actions.DEMO, run=run, samples=[Sample(at, "bubble_detected", value)], now=now or at
    )


def _air_alert(run: EcmoRun) -> Alert:
    _bubble(run, T0 + MIN, 1.0)
    return Alert.objects.get(run=run, rule_id="air.detected")


def test_it_stores_a_transition_only_when_the_state_changes(run: EcmoRun) -> None:
    alert = _air_alert(run)
    steps = list(
        AlertTransition.objects.filter(run=run, rule_id="air.detected").values_list(
            "from_status", "to_status", "rule_version", "alert"
        )
    )
    assert steps == [("", "firing", 1, alert.pk)]
    _bubble(run, T0 + 2 * MIN, 1.0)  # still firing: nothing new
    assert AlertTransition.objects.filter(run=run, rule_id="air.detected").count() == 1
    _bubble(run, T0 + 3 * MIN, 0.0)
    alert.refresh_from_db()
    assert alert.status == "clear" and alert.resolved_at is None
    assert AlertTransition.objects.filter(alert=alert).count() == 2


def test_it_reopens_only_after_resolution(run: EcmoRun, perfusionist: Any) -> None:
    alert = _air_alert(run)
    _bubble(run, T0 + 2 * MIN, 0.0)
    _bubble(run, T0 + 3 * MIN, 1.0)  # fires again in the same, unresolved episode
    assert Alert.objects.filter(run=run).count() == 1
    actions.resolve_alert(actor=perfusionist, alert=alert, comment="de-aired", now=T0 + 4 * MIN)
    _bubble(run, T0 + 5 * MIN, 0.0)
    _bubble(run, T0 + 6 * MIN, 1.0)
    assert Alert.objects.filter(run=run).count() == 2


def test_it_acknowledges_from_the_run_page_with_htmx(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    alert = _air_alert(run)
    client = client_for(perfusionist)
    with time_machine.travel(T0 + 3 * MIN, tick=False):
        response = post_form(
            client, f"/alerts/{alert.pk}/acknowledge/", {"comment": "de-aired, patient fine"}
        )
        assert response.status_code == 302
        fragment = client.post(
            f"/alerts/{alert.pk}/acknowledge/",
            {"comment": "again"},
            HTTP_HX_REQUEST="true",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )
    alert.refresh_from_db()
    assert alert.acknowledged_by == perfusionist and alert.acknowledged_at == T0 + 3 * MIN
    assert alert.acknowledged_comment == "de-aired, patient fine"
    body = fragment.content.decode()
    assert fragment.status_code == 200 and 'id="alerts-body"' in body and "already acknowledged" in body
    assert AuditEvent.objects.filter(action="alert.acknowledged", object_id=str(alert.pk)).count() == 1


def test_it_acknowledges_through_the_api(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> None:
    alert = _air_alert(run)
    url = f"/api/v1/alerts/{alert.pk}/acknowledge"
    assert post_json(client_for(personas["pharmacist"]), url, {"comment": "x"}).status_code == 403
    assert post_json(client_for(personas["outsider"]), url, {"comment": "x"}).status_code == 404
    response = post_json(client_for(personas["bedside_nurse"]), url, {"comment": "seen"})
    assert response.status_code == 200 and response.json()["acknowledged_by"] == "bedside_nurse"
    assert post_json(client_for(personas["bedside_nurse"]), url, {}).status_code == 400
    listed = client_for(personas["auditor"]).get(f"/api/v1/runs/{run.pk}/alerts", {"open": "true"}).json()
    assert [a["rule_id"] for a in listed] == ["air.detected"] and listed[0]["transitions"] == 1
    detail = client_for(personas["auditor"]).get(f"/api/v1/alerts/{alert.pk}").json()
    assert detail["history"][0]["to_status"] == "firing" and detail["history"][0]["rule_version"] == 1


def test_it_escalates_after_the_configured_time(run: EcmoRun, personas: dict[str, Any]) -> None:
    actions.save_settings(
        actor=personas["director"],
        program=run.program,
        rules={},
        escalate_critical_after_min=5,
        escalate_to_role="surgeon",
        effective_from=T0 - dt.timedelta(days=1),
        reason="test",
        now=T0,
    )
    alert = _air_alert(run)  # critical, firing since T0 + 1 min
    with time_machine.travel(T0 + 5 * MIN, tick=False):
        assert actions.escalate_due_alerts(dt.datetime.now(dt.UTC)) == []
    with time_machine.travel(T0 + 6 * MIN, tick=False):
        assert [a.pk for a in actions.escalate_due_alerts(dt.datetime.now(dt.UTC))] == [alert.pk]
        assert actions.escalate_due_alerts(dt.datetime.now(dt.UTC)) == []  # once only
    alert.refresh_from_db()
    assert alert.escalated_to_role == "surgeon" and alert.escalated_at == T0 + 6 * MIN
    event = AuditEvent.objects.get(action="alert.escalated")
    assert event.actor_name == "system:surveil" and "5 min" in event.reason


def test_it_does_not_escalate_an_acknowledged_alert(run: EcmoRun, perfusionist: Any) -> None:
    alert = _air_alert(run)
    actions.acknowledge_alert(actor=perfusionist, alert=alert, now=T0 + 2 * MIN)
    assert actions.escalate_due_alerts(T0 + dt.timedelta(hours=2)) == []


def test_the_worker_escalates_and_processes_transitions(
    run: EcmoRun, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _air_alert(run)
    seen: list[Any] = []
    with (
        contributions.added(Contributions(notifiers=(seen.append,))),
        time_machine.travel(T0 + 30 * MIN, tick=False),
        django_capture_on_commit_callbacks(execute=True),  # notifiers run after the commit
    ):
        call_command("surveil", "--once")
    assert "1 escalated" in capsys.readouterr().out
    assert seen and not AlertTransition.objects.filter(processed=False).exists()
    assert all(t.processed_at is not None for t in AlertTransition.objects.all())


def test_it_resolves_with_a_link_to_the_component_fitted(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    alert = _air_alert(run)
    component = fit(run, perfusionist, "oxygenator", T0 + 5 * MIN, lot="NEW-1")
    client = client_for(perfusionist)
    url = f"/alerts/{alert.pk}/resolve/"
    with time_machine.travel(T0 + 10 * MIN, tick=False):
        assert "still firing" in client.get(url).content.decode()
        assert post_form(client, url, {"comment": "", "component": component.pk}).status_code == 400
        done = post_form(client, url, {"comment": "oxygenator changed", "component": component.pk})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_by == perfusionist and alert.resolved_component == component
    assert alert.resolved_comment == "oxygenator changed"


def test_it_links_records_that_build_on_an_alert(run: EcmoRun, perfusionist: Any, other_program: Any) -> None:
    alert = _air_alert(run)
    link = actions.link_alert(actor=perfusionist, alert=alert, target=run.patient, relation="adverse_event")
    assert link.target == run.patient
    with pytest.raises(Exception, match="same program"):
        actions.link_alert(actor=perfusionist, alert=alert, target=other_program, relation="mm_case")


def test_the_run_page_lists_open_alerts_firing_first(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _air_alert(run)
    actions.ingest_samples(
        actor_or_system=actions.DEMO,
        run=run,
        samples=[Sample(T0 + 2 * MIN, "plasma_free_hb_mg_dl", 14, "lab")],
        now=T0 + 2 * MIN,
    )
    _bubble(run, T0 + 3 * MIN, 0.0)
    with time_machine.travel(T0 + 4 * MIN, tick=False):
        body = client_for(perfusionist).get(f"/runs/{run.pk}/").content.decode()
    panel = body.split('id="alerts-body"', 1)[1]
    assert panel.index("Haemolysis") < panel.index("Air in the circuit")  # firing before cleared
    assert "Acknowledge</button>" in panel and "Resolve…" in panel


def _more_runs(run: EcmoRun, perfusionist: Any, n: int) -> list[EcmoRun]:
    from ecmo_web.runs import actions as run_actions

    return [
        run_actions.start_run(
            actor=perfusionist,
            program=run.program,
            patient_code=f"TEST-01{i:02d}",
            sex="female",
            birth_year=1975,
            indication="respiratory",
            indication_detail="ARDS",
            mode="vv",
            started_at=T0,
            weight_kg=70,
            height_cm=170,
            identifiers={"name": f"Test Patient {i}", "mrn": f"TEST-MRN-1{i:02d}"},
        )
        for i in range(n)
    ]


def test_the_run_list_shows_open_alerts(
    run: EcmoRun, perfusionist: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    # Five runs, each with an open alert: the page's queries must not grow with the runs (no N+1).
    for each in [run, *_more_runs(run, perfusionist, 4)]:
        _air_alert(each)
    client = client_for(perfusionist)
    with django_assert_max_num_queries(14):
        body = client.get(f"/programs/{run.program_id}/runs/").content.decode()
    assert (
        "Open alerts" in body and body.count("1 critical · 1 unacknowledged") == 5 and "cell-critical" in body
    )
    with django_assert_max_num_queries(12):
        alerts_page = client.get(f"/programs/{run.program_id}/alerts/").content.decode()
    assert alerts_page.count("Air in the circuit") >= 5
    assert "unacknowledged" in alerts_page


def test_it_returns_only_to_pages_of_this_site(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    alert = _air_alert(run)
    client = client_for(perfusionist)
    url = f"/alerts/{alert.pk}/acknowledge/"
    response = post_form(client, url, {"comment": "seen", "next": "/\\evil.test/phish"})
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/#alerts"
    for target in ("//evil.test/", "https://evil.test/", "/\\\\evil.test"):
        response = post_form(client, f"/alerts/{alert.pk}/escalate/", {"role": "surgeon", "next": target})
        assert response["Location"] == f"/runs/{run.pk}/#alerts"
    response = post_form(client, url, {"comment": "again", "next": f"/programs/{run.program_id}/alerts/"})
    assert response["Location"] == f"/programs/{run.program_id}/alerts/"


def test_the_api_reports_the_real_transition_count_after_a_write(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    alert = _air_alert(run)
    _bubble(run, T0 + 2 * MIN, 0.0)  # cleared: a second transition of the same episode
    assert AlertTransition.objects.filter(alert=alert).count() == 2
    client = client_for(personas["perfusionist"])
    for path, payload in (
        ("acknowledge", {"comment": "seen"}),
        ("escalate", {"role": "surgeon"}),
        ("resolve", {"comment": "de-aired"}),
    ):
        response = post_json(client, f"/api/v1/alerts/{alert.pk}/{path}", payload)
        assert response.status_code == 200 and response.json()["transitions"] == 2, path
