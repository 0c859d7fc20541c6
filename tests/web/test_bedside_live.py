"""The circuit now and live fragments (issue 11 items 1, 2, 4).

Checklist:
- [x] the circuit-now fragment shows each number with its age, its target band and a stale mark when old
- [x] a program in kPa sees gases (and circuit pressures when it charts them in kPa) in kPa; blood pressure
      stays mmHg; saturations and FdO2 show in %
- [x] open alerts come above the numbers; a new one appears on the next poll (no reload)
- [x] an unchanged fragment answers 304 to If-None-Match in a fixed, small number of queries (≥ 5 runs)
- [x] the menu's open-alert count by severity is on every page and counts only the user's programs
- [x] a person outside the program gets 404; polls carry X-Ecmo-Background and do not keep a session awake
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from ecmo_web.runs import actions as run_actions
from ecmo_web.surveillance import actions
from tests.web.conftest import T0

BG = {"HTTP_X_ECMO_BACKGROUND": "1"}


def _ingest(run: Any, at: dt.datetime, values: dict[str, float]) -> Any:
    return actions.ingest_samples(
        actor_or_system=run_actions_user(run),
        run=run,
        samples=[{"parameter": p, "value": v, "observed_at": at.isoformat()} for p, v in values.items()],
        now=at,
    )


def run_actions_user(run: Any) -> Any:
    return run.program.memberships.get(role="perfusionist").user


STEADY = {
    "blood_flow_l_min": 4.5,
    "pump_speed_rpm": 3400,
    "access_pressure_mmhg": -60,
    "pre_oxygenator_pressure_mmhg": 255,
    "post_oxygenator_pressure_mmhg": 225,
    "sweep_gas_l_min": 4.0,
    "fdo2": 0.6,
    "post_oxygenator_so2": 0.99,
    "post_oxygenator_po2_mmhg": 375,
}


def test_it_shows_the_circuit_now_with_ages_bands_and_stale_marks(
    run: Any, perfusionist: Any, client_for: Any
) -> None:
    at = T0 + dt.timedelta(hours=2)
    _ingest(run, at, STEADY)
    with time_machine.travel(at + dt.timedelta(minutes=2), tick=False):
        body = client_for(perfusionist).get(reverse("bedside_circuit_now", args=[run.pk])).content.decode()
    assert 'data-parameter="blood_flow_l_min"' in body and "4.50<small> L/min" in body
    assert "60<small> %" in body  # FdO2 0.6 shown as 60 %
    assert "2 min ago" in body and "stale" not in body
    # ΔP not sent by this console: pre − post = 255 − 225 = 30 mmHg, labelled as computed
    assert "30<small> mmHg" in body and "pre − post" in body
    assert "not sent in 24 h" in body  # pre-oxygenator SO2 never sent: shown as missing
    with time_machine.travel(at + dt.timedelta(minutes=7), tick=False):
        later = client_for(perfusionist).get(reverse("bedside_circuit_now", args=[run.pk])).content.decode()
    # 7 min > 5 min without console telemetry: marked stale with its age
    assert "<b>stale</b> · 7 min ago" in later


def test_it_shows_a_kpa_program_in_kpa(run: Any, program: Any, perfusionist: Any, client_for: Any) -> None:
    program.pressure_unit = program.circuit_pressure_unit = "kPa"
    program.save()
    at = T0 + dt.timedelta(hours=2)
    _ingest(run, at, {**STEADY, "mean_arterial_pressure_mmhg": 75, "arterial_po2_mmhg": 75})
    with time_machine.travel(at + dt.timedelta(minutes=1), tick=False):
        body = client_for(perfusionist).get(reverse("bedside_circuit_now", args=[run.pk])).content.decode()
    # pre-oxygenator 255 mmHg / 7.50062 = 34.0 kPa; PaO2 75 mmHg = 10.0 kPa; MAP stays 75 mmHg
    assert "34.0<small> kPa" in body and "10.0<small> kPa" in body
    assert "75<small> mmHg" in body and body.count("mmHg") == 1


def test_it_puts_a_new_critical_alert_above_the_numbers_on_the_next_poll(
    run: Any, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    at = T0 + dt.timedelta(hours=2)
    _ingest(run, at, STEADY)
    url = reverse("bedside_circuit_now", args=[run.pk])
    with time_machine.travel(at + dt.timedelta(seconds=30), tick=False):
        first = client.get(url, **BG)
        assert "badge critical" not in first.content.decode()
        unchanged = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **BG)
        assert unchanged.status_code == 304
        result = _ingest(run, at + dt.timedelta(seconds=20), {"bubble_detected": 1})
        assert result.transitions
        after = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **BG)
    assert after.status_code == 200
    body = after.content.decode()
    assert 'class="badge critical"' in body and body.index("bs-alerts") < body.index("bs-grid")
    assert 'data-critical-ids="' in body and 'data-critical-ids=""' not in body


def test_an_unchanged_fragment_costs_a_304_and_few_queries_with_five_runs(
    program: Any, run: Any, perfusionist: Any, client_for: Any
) -> None:
    for i in range(2, 7):
        other = run_actions.start_run(
            actor=perfusionist, program=program, patient_code=f"TEST-000{i}", sex="female", birth_year=1980,
            indication="respiratory", indication_detail="", mode="vv", started_at=T0, weight_kg=70,
            height_cm=170, identifiers={},
        )  # fmt: skip
        _ingest(other, T0 + dt.timedelta(hours=1), STEADY)
    client = client_for(perfusionist)
    with time_machine.travel(T0 + dt.timedelta(hours=1, minutes=1), tick=False):
        for url in (reverse("bedside_circuit_now", args=[run.pk]), reverse("bedside_alert_badge")):
            first = client.get(url, **BG)
            with CaptureQueriesContext(connection) as queries:
                again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **BG)
            assert again.status_code == 304 and again.content == b""
            # session, user, memberships (permission), run (circuit only), change counter
            assert len(queries) <= 5, [q["sql"] for q in queries]
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, **BG).status_code == 200
            assert len(queries) <= 10, [q["sql"] for q in queries]


def test_the_menu_counts_open_alerts_by_severity_in_the_users_programs_only(
    run: Any, personas: Any, client_for: Any
) -> None:
    at = T0 + dt.timedelta(hours=2)
    _ingest(run, at, {**STEADY, "bubble_detected": 1})
    with time_machine.travel(at + dt.timedelta(minutes=1), tick=False):
        mine = client_for(personas["bedside_nurse"]).get(reverse("bedside_alert_badge")).content.decode()
        theirs = client_for(personas["outsider"]).get(reverse("bedside_alert_badge")).content.decode()
        page = (
            client_for(personas["bedside_nurse"])
            .get(reverse("run_list", args=[run.program_id]))
            .content.decode()
        )
    assert "1 critical" in mine
    assert "No open alert" in theirs
    assert reverse("bedside_alert_badge") in page and "data-mute-toggle" in page


def test_a_person_outside_the_program_cannot_poll_its_circuit(
    run: Any, personas: Any, client_for: Any
) -> None:
    response = client_for(personas["outsider"]).get(reverse("bedside_circuit_now", args=[run.pk]), **BG)
    assert response.status_code == 404


def test_the_run_page_opens_on_the_circuit_now(run: Any, perfusionist: Any, client_for: Any) -> None:
    body = client_for(perfusionist).get(reverse("run_detail", args=[run.pk])).content.decode()
    assert body.index('id="circuit-now"') < body.index('id="alerts"')
    assert reverse("bedside_circuit_now", args=[run.pk]) in body


def test_the_run_list_and_alert_list_answer_an_unchanged_poll_with_304(
    run: Any, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    at = T0 + dt.timedelta(hours=2)
    with time_machine.travel(at, tick=False):
        for name in ("run_list", "surveillance_program_alerts"):
            url = reverse(name, args=[run.program_id])
            first = client.get(url, **BG)
            assert (
                first.status_code == 200
                and f'data-live-etag="{escape(first["ETag"])}"' in first.content.decode()
            )
            assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **BG).status_code == 304
        _ingest(run, at, {**STEADY, "bubble_detected": 1})
        changed = client.get(
            reverse("run_list", args=[run.program_id]), HTTP_IF_NONE_MATCH=first["ETag"], **BG
        )
    assert changed.status_code == 200 and "1 critical" in changed.content.decode()


def test_the_template_tags_show_a_programs_units(program: Any) -> None:
    from django.template import Context, Template

    template = Template(
        '{% load bedside_units %}{% measure program "arterial_po2_mmhg" 75 %} · '
        '{% measure program "hemoglobin_g_dl" 9.4 %} · {% unit_for program "fdo2" %} · '
        '{% measure program "spo2" None %} · {{ age|ago }}'
    )
    program.pressure_unit, program.hemoglobin_unit = "kPa", "g/L"
    # 75 mmHg / 7.50062 = 10.0 kPa; 9.4 g/dL × 10 = 94 g/L
    text = template.render(Context({"program": program, "age": dt.timedelta(hours=3, minutes=5)}))
    assert text == "10.0 kPa · 94 g/L · % · — · 3 h 05 min ago"


def test_alert_messages_read_in_the_programs_units_and_rules_by_their_title(program: Any) -> None:
    from types import SimpleNamespace

    from django.template import Context, Template

    template = Template(
        "{% load bedside_units %}{% alert_message alert program %} | {{ alert.rule_id|rule_title }}"
    )
    alert = SimpleNamespace(
        rule_id="oxygenator.post_po2_low",
        message="Post-oxygenator PO2 120 mmHg at FdO2 1.0 (alert below 150 mmHg); see post_oxygenator_po2_mmhg.",
    )
    program.pressure_unit = "kPa"
    text = template.render(Context({"program": program, "alert": alert}))
    # 120 mmHg / 7.50062 = 16.0 kPa; 150 mmHg = 20.0 kPa; the code reads as its clinical name
    assert text == (
        "Post-oxygenator PO2 16.0 kPa at FdO2 1.0 (alert below 20.0 kPa); see Post-oxygenator PO2. | "
        "Low post-oxygenator PO2 on pure oxygen"
    )
    access = SimpleNamespace(rule_id="access.pressure_low", message="Access pressure -120 mmHg")
    # circuit pressures follow their own setting: still mmHg here
    assert (
        Template("{% load bedside_units %}{% alert_message a p %}").render(
            Context({"a": access, "p": program})
        )
        == "Access pressure -120 mmHg"
    )


def test_alert_messages_read_in_the_programs_local_time(program: Any) -> None:
    from types import SimpleNamespace

    from ecmo_web.surveillance.present import local_message

    alert = SimpleNamespace(
        rule_id="documentation.check_overdue",
        message="No circuit check since the run started at 2026-07-02 21:59 UTC (45 h ago); "
        "last 2026-12-02 21:59 UTC.",
    )
    # Europe/London: BST (UTC+1) in July, GMT (UTC+0) in December
    assert local_message(alert, program) == (
        "No circuit check since the run started at 2026-07-02 22:59 BST (45 h ago); last 2026-12-02 21:59 GMT."
    )
    program.time_zone = "America/New_York"
    assert local_message(alert, program).endswith("2026-12-02 16:59 EST.")
    # without a program (a message with no home) the rule's own UTC text is kept
    assert local_message(alert, None) == alert.message
