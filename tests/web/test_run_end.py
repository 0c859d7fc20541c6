"""Ending a run (death, withdrawal, transfer; decannulation too) and recording hospital discharge.

- [x] "End run" closes the run with its outcome and local time; an audit event; everything in place closes
- [x] ended_at in the future, before flow started, an outcome of "on ECMO" or an unknown one: refused naming the field
- [x] discharge is recorded only after the run ends; death on ECMO cannot be "alive at discharge"
- [x] discharge can be corrected (yes → no → not yet known), each change audited with before and after
- [x] roles without run.edit get a 403 on both pages and see neither button
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs import actions
from ecmo_web.runs.models import Cannula, EcmoRun
from tests.web.conftest import T0

NOW = T0 + dt.timedelta(days=3)


@pytest.fixture
def intensivist(personas: dict[str, Any]) -> Any:
    return personas["intensivist"]


def _post(client: Client, url: str, data: dict[str, Any]) -> Any:
    token = client.get(url).cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def _local(moment: dt.datetime, run: EcmoRun) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(run.program.time_zone)).strftime("%Y-%m-%dT%H:%M")


@time_machine.travel(NOW, tick=False)
def test_it_ends_a_run_from_its_page(run: EcmoRun, intensivist: Any, client_for: Any) -> None:
    client = client_for(intensivist)
    assert "End run" in client.get(f"/runs/{run.pk}/").content.decode()
    ended = NOW - dt.timedelta(hours=2)
    response = _post(
        client,
        f"/runs/{run.pk}/end/",
        {"outcome": "died_on_ecmo", "ended_at": _local(ended, run), "reason": "irreversible brain injury"},
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.outcome == "died_on_ecmo" and run.ended_at == ended
    assert AuditEvent.objects.filter(action="run.ended", object_id=str(run.pk)).count() == 1
    assert not Cannula.objects.filter(run=run, removed_at__isnull=True).exists()
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "End run" not in page and "Hospital discharge: not yet known" in page


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"outcome": "weaned", "ended_at": "2099-01-01T10:00"}, "ended_at", "cannot be in the future"),
        ({"outcome": "weaned", "ended_at": "2000-01-01T10:00"}, "ended_at", "before"),
        ({"outcome": "ongoing", "ended_at": ""}, "outcome", "Select a valid choice"),
        ({"outcome": "wizardry", "ended_at": ""}, "outcome", "Select a valid choice"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_bad_end_naming_the_field(
    run: EcmoRun, intensivist: Any, client_for: Any, data: dict[str, str], field: str, words: str
) -> None:
    data = {**data, "ended_at": data["ended_at"] or _local(NOW, run)}
    response = _post(client_for(intensivist), f"/runs/{run.pk}/end/", data)
    assert response.status_code == 400
    assert words in response.content.decode()
    run.refresh_from_db()
    assert run.ended_at is None and run.outcome == "ongoing"
    assert not AuditEvent.objects.filter(action="run.ended").exists()


@time_machine.travel(NOW, tick=False)
def test_the_action_refuses_unknown_and_ongoing_outcomes(run: EcmoRun, intensivist: Any) -> None:
    for outcome, words in (("wizardry", "must be one of weaned"), ("ongoing", "choose how the run ended")):
        with pytest.raises(ValidationError) as err:
            actions.end_run(actor=intensivist, run=run, ended_at=NOW, outcome=outcome)
        assert words in err.value.message_dict["outcome"][0]


@time_machine.travel(NOW, tick=False)
def test_discharge_waits_for_the_end_of_the_run(run: EcmoRun, intensivist: Any) -> None:
    with pytest.raises(ValidationError) as err:
        actions.record_discharge(actor=intensivist, run=run, survived_to_discharge=True)
    assert "end the run first" in err.value.message_dict["survived_to_discharge"][0]
    run.refresh_from_db()
    assert run.survived_to_discharge is None


@time_machine.travel(NOW, tick=False)
def test_death_on_ecmo_cannot_be_alive_at_discharge(run: EcmoRun, intensivist: Any) -> None:
    actions.end_run(actor=intensivist, run=run, ended_at=NOW, outcome="died_on_ecmo")
    with pytest.raises(ValidationError) as err:
        actions.record_discharge(actor=intensivist, run=run, survived_to_discharge=True)
    assert "death on ECMO" in err.value.message_dict["survived_to_discharge"][0]
    actions.record_discharge(actor=intensivist, run=run, survived_to_discharge=False)
    run.refresh_from_db()
    assert run.survived_to_discharge is False


@time_machine.travel(NOW, tick=False)
def test_it_records_and_corrects_discharge_from_the_page(
    run: EcmoRun, intensivist: Any, client_for: Any
) -> None:
    actions.end_run(actor=intensivist, run=run, ended_at=NOW - dt.timedelta(days=1), outcome="weaned")
    client = client_for(intensivist)
    assert "Hospital discharge" in client.get(f"/runs/{run.pk}/").content.decode()
    for choice, stored, shown in (
        ("yes", True, "alive"),
        ("no", False, "died in hospital"),
        ("unknown", None, "not yet known"),
    ):
        response = _post(client, f"/runs/{run.pk}/discharge/", {"survived_to_discharge": choice})
        assert response.status_code == 302
        run.refresh_from_db()
        assert run.survived_to_discharge is stored
        assert f"Hospital discharge: {shown}" in client.get(f"/runs/{run.pk}/").content.decode()
    events = AuditEvent.objects.filter(action="run.discharge_recorded", object_id=str(run.pk)).order_by("id")
    assert [e.after["survived_to_discharge"] for e in events] == [True, False, None]
    assert events[1].before["survived_to_discharge"] is True
    assert _post(client, f"/runs/{run.pk}/discharge/", {}).status_code == 400


@pytest.mark.parametrize("role", ["bedside_nurse", "researcher", "auditor", "quality"])
@time_machine.travel(NOW, tick=False)
def test_roles_without_run_edit_neither_see_nor_reach_the_pages(
    run: EcmoRun, personas: dict[str, Any], client_for: Any, role: str
) -> None:
    client = client_for(personas[role])
    page = client.get(f"/runs/{run.pk}/")
    if page.status_code == 200:
        assert "End run" not in page.content.decode()
    for url in (f"/runs/{run.pk}/end/", f"/runs/{run.pk}/discharge/"):
        assert client.get(url).status_code == 403, (role, url)
