"""Run pages and forms.

- login is required; the run list shows only the user's program, with mode, day and oxygenator age
- the run page shows the timeline; another program's run is a 404; a role without the action gets a 403
- start run, change configuration, add/replace component, add MCS device and setting: server-side validation
  with field-named errors, local times read in the program's zone, an audit event per write
- CSRF is enforced on every form
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from ecmo_web import permissions
from ecmo_web.accounts.models import Role
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs import actions
from ecmo_web.runs.models import Component, ConfigurationEntry, EcmoRun, McsSetting
from tests.web.conftest import T0


def _post(client: Client, url: str, data: dict[str, Any]) -> Any:
    token = client.get(url).cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def test_it_requires_login(run: EcmoRun) -> None:
    response = Client().get(f"/runs/{run.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_lists_the_programs_runs(
    run: EcmoRun, perfusionist: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(4):  # five runs: the pin catches a query per run
        actions.start_run(
            actor=perfusionist,
            program=run.program,
            patient_code=f"TEST-02{i:02d}",
            sex="female",
            birth_year=1980,
            indication="cardiac",
            indication_detail="myocarditis",
            mode="va",
            started_at=T0,
            weight_kg=60,
            height_cm=165,
            identifiers={"name": f"Other Patient {i}", "mrn": f"TEST-MRN-2{i:02d}"},
        )
    client = client_for(perfusionist)
    with django_assert_max_num_queries(12):
        response = client.get(f"/programs/{run.program_id}/runs/")
    body = response.content.decode()
    assert response.status_code == 200 and body.count("TEST-02") == 4 and "Other Patient 3" in body
    assert "TEST-0001" in body and "V-V" in body and "Test Patient" in body


def test_it_hides_identifiers_from_roles_without_patient_identify(
    personas: dict[str, Any], run: EcmoRun, client_for: Any, monkeypatch: Any
) -> None:
    # No role of the shipped matrix sees runs without identifiers, so a site that takes identification away from
    # its quality officers (a matrix change) is what reaches the hiding branch of the run pages.
    quality = permissions.MATRIX[Role.QUALITY]
    assert "run.view" in quality
    monkeypatch.setitem(permissions.MATRIX, Role.QUALITY, quality - {"patient.identify"})
    client = client_for(personas["quality"])
    for url in (f"/runs/{run.pk}/", f"/programs/{run.program_id}/runs/"):
        body = client.get(url).content.decode()
        assert "TEST-0001" in body, url  # the pseudonymous code stays
        assert "Test Patient" not in body and "TEST-MRN-1" not in body, url
    shown = client_for(personas["auditor"]).get(f"/runs/{run.pk}/").content.decode()
    assert "Test Patient" in shown  # the same page with identify
    assert client_for(personas["researcher"]).get(f"/runs/{run.pk}/").status_code == 403


def test_it_returns_404_for_another_programs_run(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["outsider"])
    assert client.get(f"/runs/{run.pk}/").status_code == 404
    assert client.get(f"/programs/{run.program_id}/runs/").status_code == 404
    assert client.get(f"/runs/{run.pk}/configuration/").status_code == 404


def test_it_returns_403_when_the_role_lacks_the_action(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    assert client_for(personas["pharmacist"]).get(f"/runs/{run.pk}/configuration/").status_code == 403
    assert client_for(personas["bedside_nurse"]).get(f"/runs/{run.pk}/components/add/").status_code == 403


def test_it_shows_the_timeline(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    body = client_for(perfusionist).get(f"/runs/{run.pk}/").content.decode()
    assert "Timeline" in body and "tl-lane" in body and "Configuration" in body


def test_it_starts_a_run_reading_times_in_the_program_zone(
    program: Any, perfusionist: Any, client_for: Any
) -> None:
    response = _post(
        client_for(perfusionist),
        f"/programs/{program.pk}/runs/start/",
        {
            "patient_code": "test-0002",
            "sex": "female",
            "indication": "cardiac",
            "mode": "va",
            "started_at": "2026-07-01T14:10",
            "weight_kg": "62",
            "name": "Second Patient",
        },
    )
    assert response.status_code == 302
    run = EcmoRun.objects.get(patient__code="TEST-0002")
    # Europe/London is UTC+1 in July: 14:10 local is 13:10 UTC.
    assert run.started_at == dt.datetime(2026, 7, 1, 13, 10, tzinfo=dt.UTC)
    assert run.configurations.get().mode == "va"
    assert AuditEvent.objects.filter(action="run.started", object_id=str(run.pk)).exists()


def test_it_names_the_field_and_range_on_bad_input(program: Any, perfusionist: Any, client_for: Any) -> None:
    response = _post(
        client_for(perfusionist),
        f"/programs/{program.pk}/runs/start/",
        {
            "patient_code": "X",
            "sex": "female",
            "indication": "cardiac",
            "mode": "va",
            "started_at": "not a time",
            "weight_kg": "900",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Patient code: use 2–40 letters, digits or hyphens" in body
    assert "Weight (kg): Ensure this value is less than or equal to 350" in body
    assert "Flow started: Enter a valid date/time" in body
    assert not EcmoRun.objects.exists()


def test_it_refuses_a_second_active_run_for_a_patient(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    response = _post(
        client_for(perfusionist),
        f"/programs/{run.program_id}/runs/start/",
        {
            "patient_code": "TEST-0001",
            "sex": "male",
            "indication": "respiratory",
            "mode": "vv",
            "started_at": "2026-11-21T10:00",
        },
    )
    assert response.status_code == 400
    assert "already has a run in progress" in response.content.decode()


def test_it_changes_configuration_as_a_new_history_entry(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    response = _post(
        client_for(perfusionist),
        f"/runs/{run.pk}/configuration/",
        {"mode": "vav", "started_at": "2026-11-21T09:00", "reason": "differential hypoxia"},
    )
    assert response.status_code == 302
    assert list(ConfigurationEntry.objects.filter(run=run).values_list("mode", flat=True)) == ["vv", "vav"]


def test_it_refuses_a_configuration_before_the_run(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    response = _post(
        client_for(perfusionist),
        f"/runs/{run.pk}/configuration/",
        {"mode": "va", "started_at": "2026-11-19T09:00", "reason": "x"},
    )
    assert response.status_code == 400
    assert "cannot be before the run started" in response.content.decode()


def test_it_replaces_a_component_closing_the_old_one(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    actions.install_component(
        actor=perfusionist,
        run=run,
        kind="oxygenator",
        maker="Generic",
        model="Oxy A",
        lot="LOT-1",
        installed_at=T0,
    )
    client = client_for(perfusionist)
    response = _post(
        client,
        f"/runs/{run.pk}/components/add/",
        {
            "kind": "oxygenator",
            "maker": "Generic",
            "model": "Oxy A",
            "lot": "LOT-2",
            "installed_at": "2026-11-23T14:22",
        },
    )
    assert (
        response.status_code == 400
        and "say why the component in place is being replaced" in response.content.decode()
    )
    response = _post(
        client,
        f"/runs/{run.pk}/components/add/",
        {
            "kind": "oxygenator",
            "maker": "Generic",
            "model": "Oxy A",
            "lot": "LOT-2",
            "installed_at": "2026-11-23T14:22",
            "reason_replaced": "rising resistance",
        },
    )
    assert response.status_code == 302
    old, new = Component.objects.filter(kind="oxygenator").order_by("installed_at")
    assert old.removed_at == new.installed_at and old.reason_removed == "rising resistance"
    assert new.replaces == old
    assert old.age(dt.datetime(2026, 12, 1, tzinfo=dt.UTC)) == new.installed_at - old.installed_at


def test_it_adds_an_mcs_device_and_its_settings(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    assert (
        _post(
            client,
            f"/runs/{run.pk}/mcs/add/",
            {"kind": "impella", "model": "Impella CP", "inserted_at": "2026-11-20T19:35"},
        ).status_code
        == 302
    )
    device = run.mcs_devices.get()
    response = _post(client, f"/runs/{run.pk}/mcs/setting/", {"device": device.pk, "at": "2026-11-20T20:00"})
    assert response.status_code == 400 and "record at least one setting" in response.content.decode()
    response = _post(
        client,
        f"/runs/{run.pk}/mcs/setting/",
        {"device": device.pk, "at": "2026-11-20T20:00", "impella_p_level": "6", "flow_l_min": "2.1"},
    )
    assert response.status_code == 302
    setting = McsSetting.objects.get()
    assert setting.impella_p_level == 6 and str(setting.flow_l_min) == "2.10"


def test_it_enforces_csrf_on_forms(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    response = client_for(perfusionist).post(
        f"/runs/{run.pk}/configuration/", {"mode": "va", "started_at": "2026-11-21T09:00", "reason": "x"}
    )
    assert response.status_code == 403
    assert ConfigurationEntry.objects.filter(run=run).count() == 1


def test_it_ends_a_run_closing_everything_in_place(run: EcmoRun, perfusionist: Any) -> None:
    actions.add_cannula(
        actor=perfusionist, run=run, purpose="drainage", site="right_femoral_vein", size_fr=25, inserted_at=T0
    )
    actions.install_component(
        actor=perfusionist, run=run, kind="pump_head", maker="G", model="P", installed_at=T0
    )
    end = T0 + dt.timedelta(days=5)
    actions.end_run(actor=perfusionist, run=run, ended_at=end, outcome="weaned")
    run.refresh_from_db()
    assert run.ended_at == end and run.outcome == "weaned"
    assert not Component.objects.filter(circuit__run=run, removed_at__isnull=True).exists()
    assert not run.cannulas.filter(removed_at__isnull=True).exists()


def test_it_removes_a_cannula_and_a_device_once_and_not_before_insertion(
    run: EcmoRun, perfusionist: Any
) -> None:
    cannula = actions.add_cannula(
        actor=perfusionist,
        run=run,
        purpose="return",
        site="right_internal_jugular",
        size_fr=21,
        inserted_at=T0,
    )
    device = actions.add_mcs_device(actor=perfusionist, run=run, kind="iabp", model="50 cc", inserted_at=T0)
    with pytest.raises(ValidationError, match="before the cannula was inserted"):
        actions.remove_cannula(actor=perfusionist, cannula=cannula, removed_at=T0 - dt.timedelta(hours=1))
    actions.remove_cannula(
        actor=perfusionist, cannula=cannula, removed_at=T0 + dt.timedelta(days=2), reason="repositioned"
    )
    with pytest.raises(ValidationError, match="already removed"):
        actions.remove_cannula(actor=perfusionist, cannula=cannula, removed_at=T0 + dt.timedelta(days=3))
    actions.remove_mcs_device(actor=perfusionist, device=device, removed_at=T0 + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="this device is already removed"):
        actions.remove_mcs_device(actor=perfusionist, device=device, removed_at=T0 + dt.timedelta(days=2))
    event = AuditEvent.objects.get(action="cannula.removed")
    assert event.reason == "repositioned" and event.before["removed_at"] is None


def test_it_refuses_removal_by_a_role_without_the_action(personas: dict[str, Any], run: EcmoRun) -> None:
    device = actions.add_mcs_device(
        actor=personas["cardiologist"], run=run, kind="impella", model="Impella CP", inserted_at=T0
    )
    with pytest.raises(PermissionDenied):
        actions.remove_mcs_device(
            actor=personas["pharmacist"], device=device, removed_at=T0 + dt.timedelta(days=1)
        )
    device.refresh_from_db()
    assert device.removed_at is None


def test_it_shows_the_latest_mcs_setting_on_the_run_page(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    device = actions.add_mcs_device(
        actor=perfusionist, run=run, kind="impella", model="Impella CP", inserted_at=T0
    )
    actions.record_mcs_setting(
        actor=perfusionist, device=device, at=T0 + dt.timedelta(hours=1), impella_p_level=6
    )
    actions.record_mcs_setting(
        actor=perfusionist, device=device, at=T0 + dt.timedelta(hours=9), impella_p_level=4
    )
    body = client_for(perfusionist).get(f"/runs/{run.pk}/").content.decode()
    assert "Impella CP" in body and "P4" in body
