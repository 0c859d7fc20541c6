"""Enter once, into the EHR: hourly circuit checks go out as HL7 v2 ORU^R01 over MLLP and as FHIR Observations.

- :func:`enqueue_check` is a *check hook* (contribution registry): the check actions call it inside their
  transaction, so the outbox row commits or rolls back with the check. It queues only the channels configured
  (``ECMO_EHR_MLLP`` = ``host:port``, ``ECMO_EHR_FHIR_URL`` = the FHIR base URL).
- :func:`send_pending` delivers due rows, oldest first, each claimed with a conditional update (two senders never
  send the same row at once). A row is marked sent only on AA/CA (FHIR: 200/201); AE/CE, a timeout or a refused
  connection schedules a retry with exponential back-off (``ECMO_EHR_RETRY_BASE_S`` doubling up to
  ``ECMO_EHR_RETRY_MAX_S``); AR/CR (FHIR: another 4xx) marks it rejected for a person to look at. Every
  acknowledgement is stored on the row. Callable from ``ecmo ehr-send`` and from a worker loop.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from ecmo_core.exports.fhir import check_observation
from ecmo_core.exports.hl7_out import check_oru, read_ack
from ecmo_web import mllp
from ecmo_web.registry.loaders import check_record
from ecmo_web.registry.models import OutboundMessage

log = logging.getLogger("ecmo.ehr")

LEASE = dt.timedelta(minutes=2)  # a claimed row is not picked by another sender for this long


def _control_id(channel: str, check_id: int, version: int) -> str:
    return f"ECMO{channel[0].upper()}{check_id}V{version}"[:20]


def enqueue_check(check: Any, amended: bool) -> list[OutboundMessage]:
    """Queue the check for each configured EHR channel (called inside the check action's transaction)."""
    channels = []
    if settings.ECMO_EHR_MLLP:
        channels.append(OutboundMessage.Channel.HL7)
    if settings.ECMO_EHR_FHIR_URL:
        channels.append(OutboundMessage.Channel.FHIR)
    if not channels:
        return []
    record, patient = check_record(check)
    now = timezone.now()
    made = []
    for channel in channels:
        control_id = _control_id(channel, check.chain_id, check.version)
        if channel == OutboundMessage.Channel.HL7:
            payload = check_oru(
                record,
                patient=patient,
                control_id=control_id,
                now=now,
                amended=amended,
                receiving_application=settings.ECMO_EHR_APPLICATION,
            )
        else:
            payload = json.dumps(
                check_observation(record, patient=patient, control_id=control_id, amended=amended)
            )
        made.append(
            OutboundMessage.objects.create(
                run_id=check.run_id,
                check_record=check,
                channel=channel,
                control_id=control_id,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return made


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """Delay before attempt ``attempts + 1``: base × 2^(attempts − 1), capped."""
    seconds = settings.ECMO_EHR_RETRY_BASE_S * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.ECMO_EHR_RETRY_MAX_S))


def _send_hl7(message: OutboundMessage) -> tuple[str, str, str]:
    """(outcome, ack code, ack text): outcome is sent, retry or rejected."""
    host, _, port = settings.ECMO_EHR_MLLP.rpartition(":")
    ack = mllp.send_message(host, int(port), message.payload, timeout=settings.ECMO_EHR_TIMEOUT_S)
    code, acked = read_ack(ack)
    if acked != message.control_id:
        return "retry", code, f"acknowledgement for {acked!r}, expected {message.control_id!r}: {ack[:300]}"
    if code in ("AA", "CA"):
        return "sent", code, ack
    if code in ("AR", "CR"):
        return "rejected", code, ack
    return "retry", code, ack


def _send_fhir(message: OutboundMessage) -> tuple[str, str, str]:
    url = settings.ECMO_EHR_FHIR_URL.rstrip("/") + "/Observation"
    request = urllib.request.Request(  # noqa: S310 - a configured http(s) URL
        url,
        data=message.payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
            # Conditional create: the server stores the Observation once per control id.
            "If-None-Exist": f"identifier=urn:ecmo-steward:outbound|{message.control_id}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.ECMO_EHR_TIMEOUT_S) as response:  # noqa: S310
            return "sent", str(response.status), response.read(2000).decode(errors="replace")
    except urllib.error.HTTPError as error:
        body = error.read(2000).decode(errors="replace")
        outcome = "retry" if error.code >= 500 or error.code in (408, 429) else "rejected"
        return outcome, str(error.code), body


def _claim(message_id: int, now: dt.datetime) -> bool:
    return bool(
        OutboundMessage.objects.filter(
            pk=message_id, status=OutboundMessage.Status.QUEUED, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE)
    )


def send_pending(*, now: dt.datetime | None = None, limit: int = 200) -> SendReport:
    """Deliver the due outbox rows (oldest first); returns what happened."""
    now = now or timezone.now()
    report = SendReport()
    due = list(
        OutboundMessage.objects.filter(status=OutboundMessage.Status.QUEUED, next_attempt_at__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        if not _claim(message_id, now):
            continue
        message = OutboundMessage.objects.get(pk=message_id)
        sender = _send_hl7 if message.channel == OutboundMessage.Channel.HL7 else _send_fhir
        try:
            outcome, code, text = sender(message)
        except (
            OSError,
            ValueError,
        ) as error:  # refused, reset, timeout (TimeoutError is an OSError), bad ACK
            outcome, code, text = "retry", "", f"{type(error).__name__}: {error}"
        attempts = message.attempts + 1
        fields: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now, "ack_code": code}
        if outcome == "sent":
            fields |= {
                "status": OutboundMessage.Status.SENT,
                "sent_at": now,
                "ack_text": text,
                "last_error": "",
            }
            report.sent += 1
        elif outcome == "rejected":
            fields |= {"status": OutboundMessage.Status.REJECTED, "ack_text": text, "last_error": text[:500]}
            report.rejected += 1
            log.warning("EHR rejected %s: %s", message.control_id, code)
        else:
            fields |= {"next_attempt_at": now + backoff(attempts), "last_error": text[:500]}
            if code:
                fields["ack_text"] = text
            report.retrying += 1
            report.errors.append(f"{message.control_id}: {text[:200]}")
        OutboundMessage.objects.filter(pk=message_id).update(**fields)
    return report
