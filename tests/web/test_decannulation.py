"""Decannulation: a structured checklist that blocks completion until each item is done or waived with a reason.

Spec checklist:
- a decannulation decision gets the VV or VA checklist from ecmo_core.pathways (configuration chosen)
- deciding ticks "decision recorded with participants" with who decided
- completion is refused while the decision is open, and while any item is pending or waived without a reason
  (the error lists what is outstanding); the page says so and shows the outstanding items
- items are marked done (with note and time) or waived with a reason, by whom and in what role; a marked item is
  not changed again; HTMX marking returns the refreshed checklist
- completing can end the run (outcome weaned) in the same transaction
- pathway.record needed to mark items (403 for pharmacists), 404 outside the program; audit events written
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_web.audit.models import AuditEvent
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import ChecklistItem, Decision
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

AT = T0 + dt.timedelta(days=3)


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


def decannulation(
    personas: dict[str, Any], run: EcmoRun, decided: bool = True, configuration: str = "vv"
) -> Decision:
    return actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="decannulation",
        title="Decannulate",
        made_at=AT,
        content={"configuration": configuration, "technique": "percutaneous"},
        participants=[{"user": personas["perfusionist"].pk}, {"user": personas["ecmo_specialist"].pk}],
        decided_by=personas["intensivist"] if decided else None,
    )


def test_it_builds_the_vv_or_va_checklist(personas: dict[str, Any], run: EcmoRun) -> None:
    vv = decannulation(personas, run)
    keys = list(vv.checklist_items.values_list("key", flat=True))
    assert "positioning_nmb" in keys and "venous_doppler" in keys
    va = decannulation(personas, run, configuration="va")
    assert "arterial_repair" in va.checklist_items.values_list("key", flat=True)
    first = vv.checklist_items.get(key="decision_recorded")
    assert first.status == "done" and first.recorded_by == personas["perfusionist"]


def test_it_blocks_completion_until_each_item_is_done_or_waived(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = decannulation(personas, run)
    with pytest.raises(ValidationError) as err:
        actions.complete_checklist(actor=personas["perfusionist"], decision=decision, completed_at=AT)
    assert "outstanding" in str(err.value.message_dict["checklist"])
    items = list(decision.checklist_items.filter(status="pending"))
    for item in items[:-1]:
        actions.mark_checklist_item(
            actor=personas["bedside_nurse"], item=item, status="done", note="ok", done_at=AT
        )
    last = items[-1]
    with pytest.raises(ValidationError) as err:
        actions.mark_checklist_item(actor=personas["bedside_nurse"], item=last, status="waived")
    assert "waiver_reason" in err.value.message_dict
    html = client_for(personas["perfusionist"]).get(f"/decisions/{decision.pk}/checklist/").content.decode()
    assert "1 outstanding" in html and "Completion is blocked" in html
    response = client_for(personas["perfusionist"]).post(
        f"/decisions/{decision.pk}/checklist/complete/", {"completed_at": "2026-11-23T12:00", "end_run": "on"}
    )
    assert response.status_code == 400 and "outstanding" in response.content.decode()
    actions.mark_checklist_item(
        actor=personas["bedside_nurse"],
        item=last,
        status="waived",
        waiver_reason="done at the bedside record instead",
    )
    with pytest.raises(ValidationError):
        actions.mark_checklist_item(actor=personas["bedside_nurse"], item=last, status="done")
    response = client_for(personas["perfusionist"]).post(
        f"/decisions/{decision.pk}/checklist/complete/", {"completed_at": "2026-11-23T12:00", "end_run": "on"}
    )
    assert response.status_code == 302
    run.refresh_from_db()
    decision.refresh_from_db()
    assert decision.outcome == "completed" and run.outcome == "weaned" and run.ended_at is not None
    assert {"decision.checklist_item_marked", "decision.checklist_completed", "run.ended"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_it_refuses_completion_while_the_decision_is_open(personas: dict[str, Any], run: EcmoRun) -> None:
    decision = decannulation(personas, run, decided=False)
    for item in decision.checklist_items.all():
        actions.mark_checklist_item(actor=personas["perfusionist"], item=item, status="done")
    with pytest.raises(ValidationError) as err:
        actions.complete_checklist(actor=personas["perfusionist"], decision=decision, completed_at=AT)
    assert "decided" in str(err.value.message_dict["checklist"])


def test_it_marks_items_with_htmx_and_checks_permissions(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = decannulation(personas, run)
    item = decision.checklist_items.get(key="family_informed")
    response = client_for(personas["bedside_nurse"]).post(
        f"/checklist-items/{item.pk}/", {"status": "waived", "waiver_reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "needs its reason" in response.content.decode()
    response = client_for(personas["bedside_nurse"]).post(
        f"/checklist-items/{item.pk}/",
        {"status": "done", "note": "daughter informed by phone", "done_at": "2026-11-23T08:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "daughter informed" in response.content.decode()
    item.refresh_from_db()
    assert item.recorded_by_role == "bedside_nurse" and item.done_at == dt.datetime(
        2026, 11, 23, 8, tzinfo=dt.UTC
    )
    other = decision.checklist_items.get(key="products_available")
    assert (
        client_for(personas["pharmacist"])
        .post(f"/checklist-items/{other.pk}/", {"status": "done"})
        .status_code
        == 403
    )
    assert client_for(personas["outsider"]).get(f"/decisions/{decision.pk}/checklist/").status_code == 404
    assert ChecklistItem.objects.get(pk=other.pk).status == "pending"
