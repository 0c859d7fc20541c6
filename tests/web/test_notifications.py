"""Escalation reaches people who are not looking at a screen (e-mail and a signed webhook), tested against a local
SMTP server and a local HTTP gateway on real sockets.

- an escalation by the worker is e-mailed through Django's SMTP backend to the channels serving that role
- a webhook is a JSON POST signed with HMAC-SHA256 of "<timestamp>.<body>" under the program's secret, with the
  timestamp in a header; it carries no patient identifiers
- a channel may take every alert that starts firing at or above a severity (both sides of the threshold)
- a delivery that fails (HTTP 503, SMTP 451, gateway unreachable) is retried after 1, 5, 15 and 60 minutes and
  parked after five attempts; each attempt is logged with its outcome and audited
- a delivery is sent once even when two senders reach for it (a conditional claim)
- channels belong to one program and are kept by its director or administrator (admin, audited); a webhook
  channel needs the program's secret first; inactive channels and other programs' channels are not used
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import socket
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from ecmo_core.surveillance import Sample
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, notify, worker
from ecmo_web.surveillance.models import Alert, Delivery, NotificationChannel
from tests.web import audit_guard
from tests.web.conftest import T0
from tests.web.outbound_support import http_gateway, smtp_server
from tests.web.surveil_support import post_form

MIN = dt.timedelta(minutes=1)
IDENTIFIERS = ("Test Patient", "TEST-MRN-1", "TEST-0001")


@pytest.fixture
def smtp(settings: Any) -> Any:
    with smtp_server() as (port, box):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield box


@pytest.fixture
def gateway(settings: Any, program: Any) -> Any:
    settings.ECMO_WEBHOOK_SECRETS = {program.pk: "north-secret"}
    with http_gateway() as (url, received):
        yield url, received


def _air(run: EcmoRun) -> Alert:
    actions.ingest_samples(
        actor_or_system=actions.DEMO,
        run=run,
        samples=[Sample(T0 + MIN, "bubble_detected", 1.0)],
        now=T0 + MIN,
    )
    return Alert.objects.get(run=run, rule_id="air.detected")


def _channel(director: Any, program: Any, **fields: Any) -> NotificationChannel:
    return notify.add_channel(actor=director, program=program, **fields)


def test_the_workers_escalation_is_emailed_to_the_role_on_call(
    run: EcmoRun, personas: dict[str, Any], smtp: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _channel(
        personas["director"],
        run.program,
        name="ICU on call",
        kind="email",
        target="icu-oncall@hospital.test, icu-lead@hospital.test",
        roles=["intensivist"],
    )
    _channel(
        personas["director"],
        run.program,
        name="Surgeons",
        kind="email",
        target="s@hospital.test",
        roles=["surgeon"],
    )
    _air(run)  # critical: escalated to the intensivist after 10 minutes by default
    with (
        time_machine.travel(T0 + 30 * MIN, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        summary = worker.one_pass()
    assert "1 escalated" in summary
    (mail,) = smtp.messages
    assert mail["to"] == ["icu-oncall@hospital.test", "icu-lead@hospital.test"]
    message = email.message_from_string(mail["data"], policy=email.policy.default)
    assert message["Subject"].strip().startswith("[ECMO North] Escalated: critical Air")
    assert f"run {run.pk}" in message["Subject"] and "escalated to the intensivist" in mail["data"]
    assert not any(word in mail["data"] for word in IDENTIFIERS)
    (delivery,) = Delivery.objects.all()
    assert delivery.outcome == "sent" and delivery.attempts == 1 and delivery.role == "intensivist"
    assert delivery.sent_at == T0 + 30 * MIN and "handed to the mail server" in delivery.response
    assert AuditEvent.objects.filter(action="notification.sent", program_id=run.program_id).count() == 1


def test_a_webhook_is_signed_with_the_programs_secret(
    run: EcmoRun, personas: dict[str, Any], gateway: Any
) -> None:
    url, received = gateway
    _channel(personas["director"], run.program, name="Pager", kind="webhook", target=url, roles=["surgeon"])
    alert = _air(run)
    actions.escalate_alert(
        actor_or_system=personas["bedside_nurse"], alert=alert, role="surgeon", now=T0 + 3 * MIN
    )
    assert notify.deliver_due(now=T0 + 3 * MIN) == 1  # (outside a test it is sent as soon as it commits)
    (request,) = received.requests
    headers, body = request["headers"], request["body"]
    timestamp = headers["X-ECMO-Timestamp"]
    expected = hmac.new(b"north-secret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-ECMO-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - int(dt.datetime.now(dt.UTC).timestamp())) < 60
    payload = json.loads(body)
    assert payload["event"] == "escalation" and payload["escalated_to_role"] == "surgeon"
    assert payload["severity"] == "critical" and payload["run"] == run.pk and payload["program"] == "North"
    assert not any(word in body.decode() for word in IDENTIFIERS)
    assert Delivery.objects.get().response == "HTTP 200 paged"


def test_a_channel_takes_alerts_firing_at_or_above_its_severity(
    run: EcmoRun, personas: dict[str, Any], other_program: Any
) -> None:
    director = personas["director"]
    critical = _channel(
        director, run.program, name="Critical", kind="email", target="c@h.test", firing="critical"
    )
    warning = _channel(
        director, run.program, name="Warnings", kind="email", target="w@h.test", firing="warning"
    )
    _channel(
        director, run.program, name="Escalations", kind="email", target="e@h.test", roles=["intensivist"]
    )
    _channel(
        director, run.program, name="Off", kind="email", target="o@h.test", firing="warning", active=False
    )
    with audit_guard.unaudited():  # another program's channel, by hand: this director cannot add it
        NotificationChannel.objects.create(
            program=other_program, name="South", kind="email", target="s@h.test", firing="warning"
        )
    actions.ingest_samples(  # plasma free Hb 20 mg/dL: above the 10 mg/dL warning, below the 50 critical
        actor_or_system=actions.DEMO,
        run=run,
        samples=[Sample(T0 + MIN, "plasma_free_hb_mg_dl", 20.0), Sample(T0 + MIN, "bubble_detected", 1.0)],
        now=T0 + MIN,
    )
    worker.process_transitions(now=T0 + 2 * MIN)
    sent = sorted(
        (d.channel.name, d.alert.rule_id) for d in Delivery.objects.select_related("alert", "channel")
    )
    assert sent == [
        ("Critical", "air.detected"),
        ("Warnings", "air.detected"),
        ("Warnings", "hemolysis.pfhb_high"),
    ]
    assert critical.deliveries.count() == 1 and warning.deliveries.count() == 2


def test_a_failing_gateway_is_retried_with_back_off_then_parked(
    run: EcmoRun, personas: dict[str, Any], gateway: Any
) -> None:
    url, received = gateway
    received.answers = [503] * 5
    _channel(personas["director"], run.program, name="Pager", kind="webhook", target=url, roles=["surgeon"])
    alert = _air(run)
    actions.escalate_alert(
        actor_or_system=personas["perfusionist"], alert=alert, role="surgeon", now=T0 + 2 * MIN
    )
    start = T0 + 2 * MIN
    notify.deliver_due(now=start)
    delivery = Delivery.objects.get()
    assert delivery.outcome == "retrying" and delivery.next_try_at == start + MIN
    assert delivery.response == "HTTP 503 gateway busy"
    assert notify.deliver_due(now=start + 30 * dt.timedelta(seconds=1)) == 0  # not yet due
    for offset, wait in ((1, 5), (6, 15), (21, 60)):
        notify.deliver_due(now=start + offset * MIN)
        delivery.refresh_from_db()
        assert delivery.next_try_at == start + (offset + wait) * MIN
    notify.deliver_due(now=start + 81 * MIN)
    delivery.refresh_from_db()
    assert delivery.outcome == "parked" and delivery.attempts == 5 and delivery.next_try_at is None
    assert [h["outcome"] for h in delivery.history] == ["retrying"] * 4 + ["parked"]
    assert len(received.requests) == 5
    assert notify.deliver_due(now=start + dt.timedelta(days=1)) == 0  # parked: never again
    assert AuditEvent.objects.filter(action="notification.parked").count() == 1
    assert AuditEvent.objects.filter(action="notification.retrying").count() == 4


def test_a_refusing_mail_server_is_retried_until_it_accepts(
    run: EcmoRun, personas: dict[str, Any], smtp: Any
) -> None:
    _channel(
        personas["director"], run.program, name="ICU", kind="email", target="icu@h.test", roles=["surgeon"]
    )
    alert = _air(run)
    actions.escalate_alert(
        actor_or_system=personas["perfusionist"], alert=alert, role="surgeon", now=T0 + 2 * MIN
    )
    smtp.refuse = True
    notify.deliver_due(now=T0 + 2 * MIN)
    delivery = Delivery.objects.get()
    assert delivery.outcome == "retrying" and "SMTP" in delivery.response and "451" in delivery.response
    smtp.refuse = False
    assert notify.deliver_due(now=T0 + 3 * MIN) == 1
    delivery.refresh_from_db()
    assert delivery.outcome == "sent" and delivery.attempts == 2 and len(smtp.messages) == 1


def test_an_unreachable_gateway_is_a_failed_attempt(
    run: EcmoRun, personas: dict[str, Any], settings: Any
) -> None:
    settings.ECMO_WEBHOOK_SECRETS = {run.program.pk: "x"}
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _channel(
        personas["director"],
        run.program,
        name="Pager",
        kind="webhook",
        target=f"http://127.0.0.1:{port}/page",
        roles=["surgeon"],
    )
    alert = _air(run)
    actions.escalate_alert(
        actor_or_system=personas["perfusionist"], alert=alert, role="surgeon", now=T0 + 2 * MIN
    )
    assert notify.deliver_due(now=T0 + 2 * MIN) == 0
    delivery = Delivery.objects.get()
    assert delivery.outcome == "retrying" and "could not reach the gateway" in delivery.response


def test_a_delivery_is_sent_once_when_two_senders_reach_for_it(
    run: EcmoRun, personas: dict[str, Any], gateway: Any
) -> None:
    url, received = gateway
    _channel(personas["director"], run.program, name="Pager", kind="webhook", target=url, roles=["surgeon"])
    alert = _air(run)
    actions.escalate_alert(
        actor_or_system=personas["perfusionist"], alert=alert, role="surgeon", now=T0 + 2 * MIN
    )
    first, second = Delivery.objects.get(), Delivery.objects.get()  # both read it as pending
    assert notify.send(first, now=T0 + 2 * MIN) is True
    assert notify.send(second, now=T0 + 2 * MIN) is False
    assert len(received.requests) == 1


def test_channels_are_validated(run: EcmoRun, personas: dict[str, Any]) -> None:
    director = personas["director"]
    with pytest.raises(ValidationError) as error:
        _channel(director, run.program, name="x", kind="email", target="not-an-address", roles=["surgeon"])
    assert "target" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _channel(director, run.program, name="x", kind="email", target="a@h.test", roles=["wizard"])
    assert "roles" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # no signing secret set for the program
        _channel(
            director, run.program, name="x", kind="webhook", target="https://pager.h.test/", roles=["surgeon"]
        )
    assert "ECMO_WEBHOOK_SECRET_" in error.value.message_dict["kind"][0]
    with pytest.raises(PermissionDenied):
        _channel(
            personas["perfusionist"],
            run.program,
            name="x",
            kind="email",
            target="a@h.test",
            roles=["surgeon"],
        )


def _staff(user: Any) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("role", "allowed"), [("director", True), ("admin", True), ("perfusionist", False)])
def test_the_director_keeps_channels_in_the_admin(
    run: EcmoRun, personas: dict[str, Any], role: str, allowed: bool
) -> None:
    client = _staff(personas[role])
    response = client.post(
        "/admin/surveillance/notificationchannel/add/",
        {
            "program": run.program.pk,
            "name": "ICU on call",
            "kind": "email",
            "target": "icu@h.test",
            "roles": ["intensivist", "surgeon"],
            "firing": "",
            "active": "on",
        },
    )
    assert response.status_code == (302 if allowed else 403)
    assert NotificationChannel.objects.filter(name="ICU on call").exists() is allowed
    if allowed:
        assert NotificationChannel.objects.get().roles == ["intensivist", "surgeon"]
        assert AuditEvent.objects.get(action="notificationchannel.added").actor == personas[role]
        assert client.get("/admin/surveillance/delivery/").status_code == 200


def test_a_hand_escalation_from_the_run_page_is_sent_when_it_commits(
    run: EcmoRun,
    personas: dict[str, Any],
    gateway: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url, received = gateway
    _channel(personas["director"], run.program, name="Pager", kind="webhook", target=url, roles=["surgeon"])
    alert = _air(run)
    client = client_for(personas["bedside_nurse"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_form(
            client, f"/alerts/{alert.pk}/escalate/", {"role": "surgeon", "reason": "bleeding"}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    (request,) = received.requests
    assert json.loads(request["body"])["escalated_to_role"] == "surgeon"
    assert Delivery.objects.get().outcome == "sent"


def test_the_message_sent_speaks_the_programs_units_and_clinical_words(run: EcmoRun) -> None:
    program = run.program
    program.pressure_unit = "kPa"
    with audit_guard.unaudited():
        program.save(update_fields=["pressure_unit"])
        alert = Alert.objects.create(
            run=run,
            rule_id="oxygenator.post_po2_low",
            rule_version=1,
            severity="critical",
            peak_severity="critical",
            status="firing",
            opened_at=T0,
            status_changed_at=T0,
            message="post_oxygenator_po2_mmhg 150 mmHg on FdO2 1.0",
        )
    payload = notify._payload(alert, "escalated", "intensivist", T0)
    assert payload["message"] == "Post-oxygenator PO2 20.0 kPa on FdO2 1.0"
