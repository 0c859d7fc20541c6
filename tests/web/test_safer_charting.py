"""Safer charting (issue 11 §8).

Checklist:
- [x] the check form never pre-ticks a safety or inspection item, even when the previous check ticked them all
- [x] a cleared "check overdue" alert resolves itself when the next check is recorded (audited, by the system,
      naming the check), so the run's "to resolve" count is empty; a site can turn this off
      (``documentation.check_overdue.resolve_on_next_check``), and then the alert waits for a person
- [x] an overdue alert still firing after a back-dated check is not resolved
- [x] check history: paginated (48 a page, newest first, earlier versions with their check), units in headers
- [x] a resolved alert's page says it is resolved, by whom or by itself, and offers no form; a late POST
      changes nothing
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import time_machine
from django.test import Client

from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.actions.alerts import CHECK_OVERDUE
from ecmo_web.surveillance.models import Alert, CircuitCheck
from tests.web.conftest import T0
from tests.web.surveil_support import csrf_token

HOUR = dt.timedelta(hours=1)
SAFETY_AND_INSPECTION = (
    "connectors_secure",
    "cannula_sites_ok",
    "hand_crank_present",
    "clamps_present",
    "backup_console_ready",
    "battery_charged",
    "gas_supply_connected",
)


def _check(run: EcmoRun, actor: Any, at: dt.datetime, now: dt.datetime | None = None) -> CircuitCheck:
    data = {"pump_speed_rpm": 3200, "blood_flow_l_min": 4.2, **{name: True for name in SAFETY_AND_INSPECTION}}
    return actions.record_check(actor=actor, run=run, observed_at=at, data=data, now=now or at)


def _overdue(run: EcmoRun) -> Alert:
    return Alert.objects.get(run=run, rule_id=CHECK_OVERDUE)


def _fire_overdue(run: EcmoRun, at: dt.datetime) -> Alert:
    actions.evaluate_run(run, now=at)
    alert = _overdue(run)
    assert alert.status == "firing" and alert.resolved_at is None
    return alert


def test_it_never_pre_ticks_a_safety_item(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    _check(run, perfusionist, T0 + HOUR)  # every item ticked
    with time_machine.travel(T0 + 2 * HOUR, tick=False):
        html = client_for(perfusionist).get(f"/runs/{run.pk}/checks/new/").content.decode()
    for name in SAFETY_AND_INSPECTION:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert tag is not None and "checked" not in tag.group(0), name


def test_it_resolves_a_cleared_check_overdue_alert_when_the_next_check_is_recorded(
    run: EcmoRun, perfusionist: Any
) -> None:
    alert = _fire_overdue(run, T0 + 3 * HOUR)  # no check since the run started at T0
    _check(run, perfusionist, T0 + 3 * HOUR + dt.timedelta(minutes=5))
    alert.refresh_from_db()
    assert alert.status == "clear" and alert.resolved_at == T0 + 3 * HOUR + dt.timedelta(minutes=5)
    assert alert.resolved_by is None and "Resolved by itself" in alert.resolved_comment
    event = AuditEvent.objects.get(action="alert.resolved", object_id=str(alert.pk))
    assert event.actor_name == "system:check-recorded" and event.after["check"] is not None
    assert not Alert.objects.filter(run=run, resolved_at__isnull=True, status="clear").exists()


def test_it_leaves_the_alert_to_a_person_when_the_site_turns_this_off(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any]
) -> None:
    actions.save_settings(
        actor=personas["director"],
        program=run.program,
        rules={"documentation.check_overdue": {"resolve_on_next_check": False}},
        effective_from=T0 - dt.timedelta(days=1),
        reason="our unit resolves every alert by hand",
        now=T0,
    )
    alert = _fire_overdue(run, T0 + 3 * HOUR)
    _check(run, perfusionist, T0 + 3 * HOUR + dt.timedelta(minutes=5))
    alert.refresh_from_db()
    assert alert.status == "clear" and alert.resolved_at is None


def test_it_leaves_an_alert_that_still_fires_after_a_back_dated_check(
    run: EcmoRun, perfusionist: Any
) -> None:
    alert = _fire_overdue(run, T0 + 5 * HOUR)
    # A check entered now but observed 3 h ago: the last check is still more than 75 min old.
    _check(run, perfusionist, T0 + 2 * HOUR, now=T0 + 5 * HOUR)
    alert.refresh_from_db()
    assert alert.status == "firing" and alert.resolved_at is None


def test_it_paginates_check_history_with_units_in_its_headers(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    for hour in range(50):
        _check(run, perfusionist, T0 + (hour + 1) * HOUR)
    client = client_for(perfusionist)
    with time_machine.travel(T0 + 52 * HOUR, tick=False):
        first = client.get(f"/runs/{run.pk}/checks/").content.decode()
        second = client.get(f"/runs/{run.pk}/checks/", {"page": 2}).content.decode()
    assert first.count('class="sv-when"') == 48 and second.count('class="sv-when"') == 2
    assert "page 1 of 2" in first and "older checks" in first and "newer checks" in second
    for header in ("Flow", "Access", "ΔP", "Sweep", "FdO2"):
        assert f"{header} <small>(" in first, header
    for unit in ("(L/min)", "(mmHg)", "(%)", "(°C)"):
        assert f"<small>{unit}</small>" in first, unit


def test_a_resolved_alerts_page_says_so_and_offers_no_form(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    alert = _fire_overdue(run, T0 + 3 * HOUR)
    _check(run, perfusionist, T0 + 3 * HOUR + dt.timedelta(minutes=5))
    client = client_for(perfusionist)
    url = f"/alerts/{alert.pk}/resolve/"
    with time_machine.travel(T0 + 4 * HOUR, tick=False):
        html = client.get(url).content.decode()
        assert "This alert is resolved" in html and "Resolved by itself" in html
        assert html.index("This alert is resolved") < html.index("Transitions")
        assert 'name="comment"' not in html and "Resolve alert</button>" not in html
        token = csrf_token(client, f"/runs/{run.pk}/")
        late = client.post(url, {"comment": "late", "csrfmiddlewaretoken": token})
    assert late.status_code == 200
    alert.refresh_from_db()
    assert alert.resolved_comment.startswith("Resolved by itself")
