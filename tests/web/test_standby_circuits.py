"""Primed circuits on standby (issue 14 §3): priming, checklist, expiry by program policy, the expiry alert.

Spec checklist:
- recording a primed circuit takes the prime volume from its parts (240 + 32 + 350 = 622 mL), the heparin from
  the program's IU/mL (1 × 622 = 622 IU) and expires primed time + 30 days (program policy)
- the page lists circuits on standby, flags one expiring within the warning window and one past expiry
- ``expire_standby_circuits(now)`` marks circuits past expiry as expired and records one notice each, and one
  "expiring soon" notice inside the warning window; a second call records nothing more; the audit names
  the system actor
- the checklist is confirmed item by item; a circuit taken off standby as used puts its parts on the run;
  discarding needs a reason; a notice is acknowledged once
- a nurse reads the page but cannot prime; an outsider gets 404; the API lists the program's circuits
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from ecmo_web.audit.models import AuditEvent
from ecmo_web.perfusion.actions import standby
from ecmo_web.perfusion.actions.settings import set_settings
from ecmo_web.perfusion.models import StandbyCircuit, StandbyNotice
from ecmo_web.runs.models import CatalogueItem, Component, EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient
from tests.web.perfusion_support import catalogue  # noqa: F401

pytestmark = pytest.mark.django_db


def _prime(
    personas: dict[str, Any], run: EcmoRun, parts: dict[str, CatalogueItem], label: str, at: dt.datetime
) -> StandbyCircuit:
    return standby.prime_standby_circuit(
        actor=personas["perfusionist"],
        program=run.program,
        label=label,
        oxygenator=parts["Oxygenator A (PMP 1.8 m²)"],
        pump=parts["Centrifugal pump head B"],
        tubing_pack=parts["3/8 in tubing pack"],
        prime_type="crystalloid",
        primed_at=at,
        lot="TEST-LOT-1",
        checklist=["deaired", "labelled"],
        now=at,
    )


def test_it_records_a_primed_circuit_with_its_volumes_and_expiry(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    c = _prime(personas, run, catalogue, "Adult standby A", T0)
    assert c.prime_volume_ml == 622  # oxygenator 240 + pump head 32 + tubing 350
    assert c.heparin_iu == 622  # 1 IU/mL × 622 mL
    assert c.expires_at == T0 + dt.timedelta(days=30)
    assert c.checklist == ["deaired", "labelled"]
    assert AuditEvent.objects.filter(action="standby.primed", actor=personas["perfusionist"]).exists()


def test_it_follows_the_program_policy_and_refuses_bad_input(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    set_settings(
        actor=personas["director"],
        program=run.program,
        values={"standby_expiry_days": 14},
        reason="policy v2",
    )
    assert _prime(personas, run, catalogue, "B", T0).expires_at == T0 + dt.timedelta(days=14)
    with pytest.raises(ValidationError) as err:
        standby.prime_standby_circuit(
            actor=personas["perfusionist"],
            program=run.program,
            label="C",
            oxygenator=catalogue["Return 17 Fr 18 cm"],
            prime_type="crystalloid",
            primed_at=T0,
            now=T0,
        )
    assert "not a oxygenator" in str(err.value.message_dict["oxygenator"])
    with pytest.raises(ValidationError, match="future"):
        standby.prime_standby_circuit(
            actor=personas["perfusionist"],
            program=run.program,
            label="E",
            oxygenator=catalogue["Oxygenator A (PMP 1.8 m²)"],
            prime_type="crystalloid",
            primed_at=T0 + dt.timedelta(hours=2),
            now=T0,
        )
    with pytest.raises(PermissionDenied):
        _prime({"perfusionist": personas["bedside_nurse"]}, run, catalogue, "F", T0)


def test_it_expires_circuits_and_notifies_once(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    old = _prime(personas, run, catalogue, "Old", T0)
    soon = _prime(personas, run, catalogue, "Soon", T0 + dt.timedelta(days=2))
    fresh = _prime(personas, run, catalogue, "Fresh", T0 + dt.timedelta(days=20))
    now = T0 + dt.timedelta(
        days=30, hours=1
    )  # Old expired 1 h ago; Soon expires in 47 h (< 3 days); Fresh in 19 d
    created = standby.expire_standby_circuits(now)
    assert sorted((n.circuit.label, n.kind) for n in created) == [("Old", "expired"), ("Soon", "expiring")]
    old.refresh_from_db()
    soon.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, old.closed_at) == ("expired", T0 + dt.timedelta(days=30))
    assert (soon.status, fresh.status) == ("standby", "standby")
    assert StandbyNotice.objects.get(circuit=soon).message == "Soon expires in 1.96 days".replace(
        "1.96", "2.0"
    )
    assert standby.expire_standby_circuits(now) == []  # idempotent
    event = AuditEvent.objects.get(action="standby.expired")
    assert event.actor is None and event.actor_name == "system:perfusion-standby"
    later = standby.expire_standby_circuits(T0 + dt.timedelta(days=32, hours=1))
    assert [(n.circuit.label, n.kind) for n in later] == [("Soon", "expired")]


def test_it_confirms_the_checklist_and_closes_circuits(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    c = _prime(personas, run, catalogue, "A", T0)
    standby.confirm_checklist(actor=personas["perfusionist"], circuit=c, keys=["ends_capped", "deaired"])
    assert c.checklist == ["deaired", "ends_capped", "labelled"]
    with pytest.raises(ValidationError, match="reason"):
        standby.close_standby_circuit(
            actor=personas["perfusionist"], circuit=c, status="discarded", at=T0 + dt.timedelta(hours=1)
        )
    standby.close_standby_circuit(
        actor=personas["perfusionist"], circuit=c, status="used", at=T0 + dt.timedelta(hours=1), run=run
    )
    assert c.used_on_run == run and c.status == "used"
    oxy = Component.objects.get(circuit__run=run, kind="oxygenator", removed_at__isnull=True)
    assert (oxy.catalogue_item, oxy.lot) == (catalogue["Oxygenator A (PMP 1.8 m²)"], "TEST-LOT-1")
    with pytest.raises(ValidationError, match="already"):
        standby.close_standby_circuit(
            actor=personas["perfusionist"],
            circuit=c,
            status="discarded",
            at=T0 + dt.timedelta(hours=2),
            reason="x",
        )


def test_it_shows_the_standby_page_with_flags_and_notices(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    _prime(personas, run, catalogue, "Adult standby A", T0)
    _prime(personas, run, catalogue, "Adult standby B", T0 + dt.timedelta(days=25))
    now = T0 + dt.timedelta(days=28)
    standby.expire_standby_circuits(now)
    url = f"/programs/{run.program_id}/perfusion/"
    with time_machine.travel(now, tick=False):
        html = BrowserClient(personas["bedside_nurse"]).get(url).content.decode()
        assert "Adult standby A" in html and "Expires soon" in html and "expires in 2.0 days" in html
        assert "Record a primed circuit" not in html and "Acknowledge" not in html
        client = BrowserClient(personas["perfusionist"])
        notice = StandbyNotice.objects.get()
        assert client.post(f"/standby-notices/{notice.pk}/acknowledge/").status_code == 302
        notice.refresh_from_db()
        assert notice.acknowledged_by == personas["perfusionist"]
        response = client.post(
            url,
            {
                "label": "Paediatric standby",
                "oxygenator": catalogue["Oxygenator P (PMP 0.8 m²)"].pk,
                "tubing_pack": catalogue["1/4 in tubing pack"].pk,
                "prime_type": "blood",
                "primed_at": "2026-12-18T09:00",
                "checklist": ["deaired"],
            },
        )
    assert response.status_code == 302, response.content.decode()[-2000:]
    paed = StandbyCircuit.objects.get(label="Paediatric standby")
    assert paed.prime_volume_ml == 220 and paed.heparin_iu == 220  # 100 + 120 mL
    assert BrowserClient(personas["outsider"]).get(url).status_code == 404
    body = (
        BrowserClient(personas["auditor"]).get(f"/api/v1/programs/{run.program_id}/standby-circuits").json()
    )
    assert {c["label"] for c in body} == {"Adult standby A", "Adult standby B", "Paediatric standby"}


def test_it_runs_the_expiry_from_the_command_line(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    import io

    from django.core.management import call_command

    _prime(personas, run, catalogue, "Old", T0)
    out = io.StringIO()
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        call_command("expire_standby", stdout=out)
    assert "North: Old expired: re-prime or discard it" in out.getvalue() and "1 notice(s)" in out.getvalue()


def test_it_expires_circuits_on_the_surveillance_workers_pass(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    from ecmo_web.contributions import Contributions, added
    from ecmo_web.surveillance import worker

    old = _prime(personas, run, catalogue, "Old", T0)

    def broken(now: dt.datetime) -> int:
        raise RuntimeError("another app's housekeeping failed")

    # a failing housekeeping stage of another app does not stop the perfusion stage
    with added(Contributions(periodic=(("broken", broken),))):
        summary = worker.one_pass(T0 + dt.timedelta(days=30, hours=1))
    old.refresh_from_db()
    assert old.status == "expired"
    assert "1 standby notices" in summary and "failed broken" in summary
    assert StandbyNotice.objects.filter(circuit=old, kind="expired").count() == 1
