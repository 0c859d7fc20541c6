"""Outbound notifications: e-mail and signed webhooks to people who are not looking at a screen.

An alert that starts firing, and an escalation to a role, become ``Delivery`` rows — one per matching active
``NotificationChannel`` of the alert's program — in the same transaction as the change they report. They are
sent after that transaction commits (``transaction.on_commit``), outside every lock, and each attempt is logged
with its outcome and audited. A failed attempt is retried after 1, 5, 15 and 60 minutes; after
``MAX_ATTEMPTS`` the delivery is parked for a person to look at.

E-mail goes through Django's mail backend (SMTP host, port, TLS and credentials set by the site). A webhook is a
JSON ``POST`` signed with HMAC-SHA256 under the program's secret (``ECMO_WEBHOOK_SECRETS`` or the environment
variable ``ECMO_WEBHOOK_SECRET_<program id>``; never stored in the database)::

    X-ECMO-Timestamp: <unix seconds>
    X-ECMO-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">

The receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant time, and
refuses stale timestamps (replays). Messages carry no patient identifiers: the program, the run number, the
rule, its severity and message, and a link to the run when ``ECMO_BASE_URL`` is set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import SystemActor, audit, require
from ecmo_web.surveillance.present import local_message
from ecmo_web.surveillance.worker_models import Delivery, NotificationChannel

logger = logging.getLogger("ecmo.surveillance.notify")

NOTIFIER = SystemActor("system:notify")
MAX_ATTEMPTS = 5
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(minutes=60),
)
# While one worker sends a delivery, others leave it alone for this long (a crashed sender's claim runs out).
CLAIM = dt.timedelta(minutes=2)
TIMEOUT_S = 10.0
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class DeliveryError(Exception):
    """The channel refused or could not be reached; the message says why."""


# --- channels -------------------------------------------------------------------------------------------------


@transaction.atomic
def add_channel(
    *,
    actor: Any,
    program: Any,
    name: str,
    kind: str,
    target: str,
    roles: Iterable[str] = (),
    firing: str = "",
    active: bool = True,
) -> NotificationChannel:
    """Add a notification channel to ``program`` (its director or administrator: ``program.manage``)."""
    require(actor, "program.manage", program)
    channel = NotificationChannel(
        program=program,
        name=name.strip(),
        kind=kind,
        target=target.strip(),
        roles=list(roles),
        firing=firing,
        active=active,
    )
    channel.full_clean()
    if kind == NotificationChannel.Kind.WEBHOOK and not webhook_secret(program.pk):
        raise ValidationError(
            {
                "kind": f"no signing secret for this program: the site sets ECMO_WEBHOOK_SECRET_{program.pk} first"
            }
        )
    channel.save()
    audit(actor, "notificationchannel.added", channel, after=snapshot(channel))
    return channel


# --- queueing -------------------------------------------------------------------------------------------------


def _payload(alert: Any, event: str, role: str, at: dt.datetime) -> dict[str, Any]:
    run = alert.run
    base = str(getattr(settings, "ECMO_BASE_URL", "") or "").rstrip("/")
    link = f"{base}{reverse('run_detail', kwargs={'run_id': run.pk})}#alerts" if base else ""
    return {
        "event": event,
        "program": run.program.name,
        "run": run.pk,
        "alert": alert.pk,
        "rule_id": alert.rule_id,
        "rule": alert.rule_title,
        "severity": alert.severity,
        "status": alert.status,
        "message": local_message(alert, run.program),
        "escalated_to_role": role,
        "at": at.astimezone(dt.UTC).isoformat(),
        "link": link,
    }


def _queue(
    channels: Iterable[NotificationChannel],
    *,
    alert: Any,
    event: str,
    role: str,
    transition: Any,
    now: dt.datetime,
    send_on_commit: bool,
) -> list[Delivery]:
    rows = [
        Delivery(
            channel=channel,
            alert=alert,
            transition=transition,
            event=event,
            role=role,
            payload=_payload(alert, event, role, now),
            next_try_at=now,
            created_at=now,
        )
        for channel in channels
    ]
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    queued = list(
        Delivery.objects.filter(
            alert=alert, event=event, transition=transition, channel__in=[r.channel for r in rows]
        )
    )
    for delivery in queued:
        audit(
            NOTIFIER,
            action="notification.queued",
            obj=delivery,
            after={"channel": delivery.channel_id, "event": event, "role": role, "alert": alert.pk},
        )
    if send_on_commit:
        ids = [d.pk for d in queued]
        transaction.on_commit(lambda: send_many(ids))
    return queued


def queue_firing(transition: Any, *, now: dt.datetime, send_on_commit: bool = True) -> list[Delivery]:
    """Queue a delivery to every active channel of the program that takes alerts firing at this severity."""
    if transition.to_status != "firing" or transition.alert_id is None:
        return []
    rank = SEVERITY_RANK.get(transition.severity, 0)
    wanted = [s for s, r in SEVERITY_RANK.items() if 0 < r <= rank]
    channels = NotificationChannel.objects.filter(
        program_id=transition.run.program_id, active=True, firing__in=wanted
    )
    return _queue(
        channels,
        alert=transition.alert,
        event=Delivery.Event.FIRING,
        role="",
        transition=transition,
        now=now,
        send_on_commit=send_on_commit,
    )


def queue_escalation(alert: Any, *, now: dt.datetime, send_on_commit: bool = True) -> list[Delivery]:
    """Queue a delivery to every active channel of the program that serves the role the alert went to."""
    role = alert.escalated_to_role
    channels = [
        c
        for c in NotificationChannel.objects.filter(program_id=alert.run.program_id, active=True)
        if role in (c.roles or [])
    ]
    return _queue(
        channels,
        alert=alert,
        event=Delivery.Event.ESCALATION,
        role=role,
        transition=None,
        now=now,
        send_on_commit=send_on_commit,
    )


# --- sending --------------------------------------------------------------------------------------------------


def webhook_secret(program_id: int) -> str:
    secrets: dict[Any, str] = dict(getattr(settings, "ECMO_WEBHOOK_SECRETS", {}) or {})
    secret = secrets.get(program_id) or secrets.get(str(program_id))
    return secret or os.environ.get(f"ECMO_WEBHOOK_SECRET_{program_id}", "")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _subject(payload: dict[str, Any]) -> str:
    what = "Escalated" if payload["event"] == Delivery.Event.ESCALATION else "Alert"
    return (
        f"[ECMO {payload['program']}] {what}: {payload['severity']} {payload['rule']} — run {payload['run']}"
    )


def _body(payload: dict[str, Any]) -> str:
    lines = [
        f"{payload['rule']} ({payload['severity']}) on run {payload['run']} of {payload['program']}.",
        payload["message"],
    ]
    if payload["escalated_to_role"]:
        lines.append(f"Unacknowledged: escalated to the {payload['escalated_to_role'].replace('_', ' ')}.")
    if payload["link"]:
        lines.append(f"Open the run: {payload['link']}")
    return "\n\n".join(lines) + "\n"


def _send_email(channel: NotificationChannel, payload: dict[str, Any]) -> str:
    connection = get_connection(timeout=TIMEOUT_S)
    message = EmailMessage(
        subject=_subject(payload), body=_body(payload), to=channel.addresses(), connection=connection
    )
    try:
        sent = message.send()
    except OSError as exc:  # smtplib errors are OSErrors too
        raise DeliveryError(f"SMTP: {exc}") from exc
    if not sent:
        raise DeliveryError("the mail backend accepted nothing")
    return f"handed to the mail server for {', '.join(channel.addresses())}"


def _send_webhook(channel: NotificationChannel, payload: dict[str, Any]) -> str:
    secret = webhook_secret(channel.program_id)
    if not secret:
        raise DeliveryError(
            f"no webhook secret for this program: set ECMO_WEBHOOK_SECRET_{channel.program_id}"
        )
    if not channel.target.startswith(("http://", "https://")):
        raise DeliveryError("the gateway URL must start with http:// or https://")
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
        channel.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ECMO-Steward",
            "X-ECMO-Timestamp": timestamp,
            "X-ECMO-Signature": sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (http(s) only)
            answer = response.read(500).decode("utf-8", "replace")
            return f"HTTP {response.status} {answer}".strip()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} {exc.read(500).decode('utf-8', 'replace')}".strip()) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"could not reach the gateway: {getattr(exc, 'reason', exc)}") from exc


def _transmit(channel: NotificationChannel, payload: dict[str, Any]) -> str:
    if channel.kind == NotificationChannel.Kind.EMAIL:
        return _send_email(channel, payload)
    return _send_webhook(channel, payload)


def _record(delivery: Delivery, *, ok: bool, response: str, now: dt.datetime) -> None:
    attempts = delivery.attempts + 1
    if ok:
        outcome, next_try = Delivery.Outcome.SENT, None
    elif attempts >= MAX_ATTEMPTS:
        outcome, next_try = Delivery.Outcome.PARKED, None
    else:
        outcome = Delivery.Outcome.RETRYING
        next_try = now + RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
    history = [*delivery.history, {"at": now.isoformat(), "outcome": outcome, "response": response[:500]}]
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            attempts=attempts,
            outcome=outcome,
            response=response[:2000],
            history=history,
            next_try_at=next_try,
            sent_at=now if ok else None,
        )
        if not updated:  # another sender recorded this attempt first
            return
        audit(
            NOTIFIER,
            action=f"notification.{'sent' if ok else outcome}",
            obj=delivery,
            after={"attempt": attempts, "outcome": outcome, "response": response[:500]},
        )
    if outcome == Delivery.Outcome.PARKED:
        logger.error(
            "delivery %s to %s parked after %s attempts: %s",
            delivery.pk,
            delivery.channel,
            attempts,
            response,
        )
    elif not ok:
        logger.warning(
            "delivery %s to %s failed (attempt %s): %s", delivery.pk, delivery.channel, attempts, response
        )


def send(delivery: Delivery, *, now: dt.datetime | None = None) -> bool:
    """Claim ``delivery`` (a conditional update, so two workers never send it twice), send it outside any
    transaction, and record the outcome. True when it was sent."""
    from django.utils import timezone

    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery.pk,
        attempts=delivery.attempts,
        outcome__in=[Delivery.Outcome.PENDING, Delivery.Outcome.RETRYING],
    ).update(next_try_at=now + CLAIM)
    if not claimed:
        return False
    try:
        response, ok = _transmit(delivery.channel, delivery.payload), True
    except DeliveryError as exc:
        response, ok = str(exc), False
    except Exception as exc:  # a broken backend must not stop the worker; it is logged and retried
        logger.exception("delivery %s raised", delivery.pk)
        response, ok = f"{type(exc).__name__}: {exc}", False
    _record(delivery, ok=ok, response=response, now=now)
    return ok


def send_many(ids: Iterable[int], *, now: dt.datetime | None = None) -> int:
    sent = 0
    for delivery in Delivery.objects.filter(pk__in=list(ids)).select_related("channel"):
        try:
            sent += send(delivery, now=now)
        except Exception:  # e.g. the database went away while recording: the next pass retries
            logger.exception("delivery %s could not be recorded", delivery.pk)
    return sent


def due(now: dt.datetime, limit: int = 200) -> list[Delivery]:
    return list(
        Delivery.objects.filter(
            Q(next_try_at__lte=now) | Q(next_try_at__isnull=True),
            outcome__in=[Delivery.Outcome.PENDING, Delivery.Outcome.RETRYING],
        )
        .select_related("channel")
        .order_by("next_try_at", "pk")[:limit]
    )


def deliver_due(*, now: dt.datetime, limit: int = 200) -> int:
    """Send every delivery whose time has come (new ones a commit did not send, and retries)."""
    return send_many([d.pk for d in due(now, limit)], now=now)
