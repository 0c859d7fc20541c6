"""M&M cases: a run and an event, the packet (timeline, trends, discussion, factors, actions) and its PDF.

- opening a case needs mm.manage (quality, director); an event of another run is refused
- input is filed under the author's discipline (a perfusionist's input is the perfusion input)
- actions have an owner (a member) and a due date; the owner or a manager closes one with a note; a case
  cannot close while an action is open
- the packet's timeline holds configuration, the decision with participants and who decided, the alert with its
  acknowledgement, circuit checks, component changes and labs; the trends are inline SVG charts
- ``GET /api/v1/mm-cases/{id}/packet.pdf`` and the page's PDF render, and the PDF's text holds the timeline
- a researcher never sees a case (403); an outsider gets a 404; an auditor reads but cannot manage
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from ecmo_core.surveillance import Sample
from ecmo_web.decisions import actions as decisions
from ecmo_web.quality import actions
from ecmo_web.quality.models import AdverseEvent, MmCase
from ecmo_web.quality.packet import build_packet
from ecmo_web.quality.svg import line_chart_svg
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions as surveillance
from ecmo_web.surveillance.models import Alert
from tests.web.conftest import T0
from tests.web.surveil_support import fit, post_form

H = dt.timedelta(hours=1)
NOW = T0 + 30 * H


@pytest.fixture
def story(run: EcmoRun, personas: dict[str, Any]) -> dict[str, Any]:
    """A V-V run: oxygenator fitted, flow and ΔP trends, an anti-Xa lab, a check, an air alert acknowledged, a
    circuit-change decision with participants, the oxygenator replaced, and the adverse event."""
    perfusionist = personas["perfusionist"]
    fit(run, perfusionist, "oxygenator", T0, lot="TEST-OXA-5")
    samples = [
        Sample(T0 + i * 10 * dt.timedelta(minutes=1), "blood_flow_l_min", 4.5 - 0.01 * i) for i in range(60)
    ]
    samples += [
        Sample(T0 + i * 10 * dt.timedelta(minutes=1), "membrane_delta_p_mmhg", 20 + i) for i in range(60)
    ]
    surveillance.ingest_samples(
        actor_or_system=surveillance.DEMO, run=run, samples=samples, now=T0 + 10 * H, evaluate=False
    )
    surveillance.ingest_samples(
        actor_or_system=perfusionist,
        run=run,
        samples=[Sample(T0 + 4 * H, "anti_xa_iu_ml", 0.18)],
        source="lab",
        now=T0 + 4 * H,
        evaluate=False,
    )
    surveillance.record_check(
        actor=perfusionist,
        run=run,
        observed_at=T0 + 5 * H,
        data={"blood_flow_l_min": 4.1, "pump_speed_rpm": 3400},
        now=T0 + 5 * H,
    )
    surveillance.ingest_samples(
        actor_or_system=surveillance.DEMO,
        run=run,
        samples=[Sample(T0 + 6 * H, "bubble_detected", 1.0)],
        now=T0 + 6 * H,
    )
    alert = Alert.objects.get(run=run, rule_id="air.detected")
    surveillance.acknowledge_alert(
        actor=perfusionist,
        alert=alert,
        comment="Air at the pigtail",
        now=T0 + 6 * H + 4 * dt.timedelta(minutes=1),
    )
    decisions.record_decision(
        actor=perfusionist,
        run=run,
        kind="circuit_change",
        title="Change the oxygenator",
        made_at=T0 + 7 * H,
        content={"reason": "Rising ΔP and air", "component_kind": "oxygenator", "urgency": "planned"},
        participants=[{"user": perfusionist.pk}, {"user": personas["intensivist"].pk}],
        decided_by=personas["intensivist"],
    )
    fit(run, perfusionist, "oxygenator", T0 + 8 * H, lot="TEST-OXA-6", reason="Rising ΔP")
    event = actions.record_adverse_event(
        actor=perfusionist,
        run=run,
        code="mech.air_in_circuit",
        severity="moderate",
        onset_at=T0 + 6 * H,
        alert=alert,
        lot="TEST-OXA-5",
        action_taken="De-aired; oxygenator changed",
        now=NOW,
    )
    return {"event": event, "alert": alert}


def _case(run: EcmoRun, personas: dict[str, Any], event: AdverseEvent) -> MmCase:
    return actions.open_case(actor=personas["quality"], run=run, event=event, title="Air in circuit", now=NOW)


def test_quality_opens_a_case_and_a_clinician_cannot(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        actions.open_case(actor=personas["perfusionist"], run=run, title="x", now=NOW)
    case = _case(run, personas, story["event"])
    assert case.event == story["event"]
    director_case = actions.open_case(actor=personas["director"], run=run, title="Second look", now=NOW)
    assert director_case.event is None


def test_it_refuses_an_event_of_another_run(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any], program: Any
) -> None:
    from ecmo_web.runs import actions as run_actions

    other = run_actions.start_run(
        actor=personas["perfusionist"],
        program=program,
        patient_code="TEST-0009",
        sex="female",
        birth_year=1975,
        indication="cardiac",
        mode="va",
        started_at=T0,
    )
    with pytest.raises(ValidationError) as err:
        actions.open_case(actor=personas["quality"], run=other, event=story["event"], title="x", now=NOW)
    assert "event" in err.value.message_dict


def test_input_is_filed_under_the_authors_discipline(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any]
) -> None:
    case = _case(run, personas, story["event"])
    perfusion = actions.add_contribution(
        actor=personas["perfusionist"], case=case, text="Pigtail left open after sampling"
    )
    nursing = actions.add_contribution(actor=personas["bedside_nurse"], case=case, text="Alarm heard at once")
    assert (perfusion.discipline, perfusion.author_role) == ("perfusion", "perfusionist")
    assert nursing.discipline == "nursing"
    with pytest.raises(PermissionDenied):
        actions.add_contribution(actor=personas["auditor"], case=case, text="x")
    with pytest.raises(ValidationError):
        actions.add_contribution(actor=personas["perfusionist"], case=case, text="  ")


def test_actions_are_tracked_until_closed(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any]
) -> None:
    case = _case(run, personas, story["event"])
    action = actions.add_action(
        actor=personas["quality"],
        case=case,
        text="Cap every pigtail after sampling",
        owner="perfusionist",
        due_on=dt.date(2026, 12, 1),
    )
    with pytest.raises(ValidationError) as err:
        actions.add_action(
            actor=personas["quality"], case=case, text="x", owner="outsider", due_on=dt.date(2026, 12, 1)
        )
    assert "owner" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.update_case(actor=personas["quality"], case=case, status="closed")
    assert "status" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        actions.close_action(actor=personas["bedside_nurse"], action=action, note="done")
    with pytest.raises(ValidationError):
        actions.close_action(actor=personas["perfusionist"], action=action, note="")
    closed = actions.close_action(
        actor=personas["perfusionist"], action=action, note="Teaching done, caps stocked", now=NOW
    )
    assert closed.closed_by == personas["perfusionist"]
    with pytest.raises(ValidationError):
        actions.close_action(actor=personas["quality"], action=action, note="again")
    assert actions.update_case(actor=personas["quality"], case=case, status="closed").status == "closed"
    factor = actions.add_factor(
        actor=personas["quality"], case=case, kind="equipment", text="Three-way tap without cap"
    )
    assert factor.get_kind_display() == "Equipment and device"
    with pytest.raises(ValidationError):
        actions.add_factor(actor=personas["quality"], case=case, kind="fate", text="x")


def test_the_packet_assembles_the_timeline_and_charts(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any]
) -> None:
    case = _case(run, personas, story["event"])
    packet = build_packet(case, now=NOW)
    texts = [f"{e.text} | {e.detail}" for e in packet.entries]
    joined = "\n".join(texts)
    assert "Configuration V-V" in joined
    assert "Decision — Circuit change: Change the oxygenator" in joined
    assert (
        "Participants: perfusionist (perfusionist), intensivist (intensivist); decided by intensivist (intensivist)"
        in joined
    )
    assert "acknowledged by perfusionist at 16:04: “Air at the pigtail”" in joined
    assert "Circuit check by perfusionist" in joined and "flow 4.1 L/min" in joined
    assert "Oxygenator removed | Rising ΔP" in joined
    assert "Lab: anti-Xa 0.18 IU/mL" in joined
    assert "Adverse event: Air in circuit (moderate)" in joined
    assert [e.at for e in packet.entries] == sorted(e.at for e in packet.entries)
    # Air is mechanical: ΔP, flow, pump speed (from the check) and the anti-Xa lab, in that order; at most four.
    titles = [svg.split('aria-label="')[1].split('"')[0] for svg in packet.charts]
    assert titles == ["Membrane ΔP (mmHg)", "Blood flow (L/min)", "Pump speed (rpm)", "Anti-Xa (IU/mL)"]
    assert packet.charts[0].startswith("<svg") and "event onset" in packet.charts[0]


def test_the_pdf_renders_and_holds_the_timeline(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any], client_for: Any
) -> None:
    case = _case(run, personas, story["event"])
    actions.update_case(actor=personas["quality"], case=case, discussion="The pigtail was left uncapped.")
    actions.add_action(
        actor=personas["quality"],
        case=case,
        text="Cap every pigtail",
        owner="perfusionist",
        due_on=dt.date(2026, 12, 1),
    )
    with time_machine.travel(NOW, tick=False):
        response = client_for(personas["quality"]).get(f"/api/v1/mm-cases/{case.pk}/packet.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    for expected in (
        "M&M case: Air in circuit",
        "Change the oxygenator",
        "decided by intensivist",
        "Air at the pigtail",
        "Circuit check by perfusionist",
        "anti-Xa 0.18",
        "The pigtail was left uncapped.",
        "Cap every pigtail",
        "Membrane ΔP",
    ):
        assert expected in flat, expected
    assert "TEST-MRN-1" not in flat and "Test Patient" not in flat  # pseudonym only
    page_pdf = client_for(personas["auditor"]).get(f"/mm-cases/{case.pk}/packet.pdf")
    assert page_pdf.status_code == 200 and page_pdf.content.startswith(b"%PDF")


def test_who_sees_a_case(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any], client_for: Any
) -> None:
    case = _case(run, personas, story["event"])
    assert client_for(personas["researcher"]).get(f"/api/v1/mm-cases/{case.pk}/packet.pdf").status_code == 403
    assert client_for(personas["researcher"]).get(f"/mm-cases/{case.pk}/").status_code == 403
    assert client_for(personas["outsider"]).get(f"/api/v1/mm-cases/{case.pk}/packet.pdf").status_code == 404
    auditor_page = client_for(personas["auditor"]).get(f"/mm-cases/{case.pk}/")
    assert auditor_page.status_code == 200
    assert "Save discussion" not in auditor_page.content.decode()
    assert (
        post_form(
            client_for(personas["auditor"]), f"/mm-cases/{case.pk}/discussion/", {"discussion": "x"}
        ).status_code
        == 403
    )


def test_the_case_page_runs_the_committee(
    run: EcmoRun, personas: dict[str, Any], story: dict[str, Any], client_for: Any, program: Any
) -> None:
    quality = client_for(personas["quality"])
    opened = post_form(
        quality,
        f"/programs/{program.pk}/mm-cases/new/",
        {
            "run": str(run.pk),
            "event": str(story["event"].pk),
            "title": "Air in circuit",
            "meeting_on": "2026-11-27",
        },
    )
    assert opened.status_code == 302
    case = MmCase.objects.get()
    url = f"/mm-cases/{case.pk}/"
    assert post_form(quality, url + "discussion/", {"discussion": "Uncapped pigtail."}).status_code == 302
    assert (
        post_form(
            quality, url + "factors/", {"kind": "process", "text": "No capping step in the sampling SOP"}
        ).status_code
        == 302
    )
    owner = personas["perfusionist"]
    assert (
        post_form(
            quality,
            url + "actions/",
            {"text": "Add capping to the SOP", "owner": str(owner.pk), "due_on": "2026-12-01"},
        ).status_code
        == 302
    )
    bad = post_form(quality, url + "actions/", {"text": "", "owner": str(owner.pk), "due_on": ""})
    assert bad.status_code == 400
    assert (
        post_form(client_for(owner), url + "input/", {"text": "The tap had no cap in stock"}).status_code
        == 302
    )
    action = case.actions.get()
    assert (
        post_form(client_for(owner), f"/mm-actions/{action.pk}/close/", {"note": "SOP v3 issued"}).status_code
        == 302
    )
    page = quality.get(url).content.decode()
    assert "Uncapped pigtail." in page and "No capping step" in page and "SOP v3 issued" in page
    assert "The tap had no cap in stock" in page and "Change the oxygenator" in page
    listing = quality.get(f"/programs/{program.pk}/mm-cases/").content.decode()
    assert "Air in circuit" in listing and "No open action." in listing


def test_the_svg_chart_escapes_text_and_draws_an_empty_window() -> None:
    svg = line_chart_svg([], start=T0, end=T0 + H, title="<b>flow</b>", marker_at=T0 + H / 2)
    assert "&lt;b&gt;flow&lt;/b&gt;" in svg and "no data in this window" in svg
    flat = line_chart_svg([(T0, 2.0), (T0 + H, 2.0)], start=T0, end=T0 + H, title="Flow")
    assert "<polyline" in flat


def test_the_svg_chart_keeps_edge_labels_inside() -> None:
    svg = line_chart_svg(
        [(T0, 1.0), (T0 + H, 2.0)],
        start=T0,
        end=T0 + H,
        title="Flow",
        tick_labels=[(T0, "first"), (T0 + H, "last"), (T0 + H / 2, "mid")],
    )
    assert (
        'text-anchor="start">first' in svg
        and 'text-anchor="end">last' in svg
        and 'text-anchor="middle">mid' in svg
    )
