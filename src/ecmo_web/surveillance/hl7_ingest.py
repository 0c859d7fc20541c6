"""The HL7 listener's handler: one ORU^R01 in, its samples committed, one acknowledgement out.

The MLLP server (``ecmo_web.mllp``) calls :func:`handle` in a worker thread for each framed message and sends
the string it returns. The acknowledgement is built only after the transaction that stores the samples has
committed, so an AA/CA means the data are on disk; anything not stored is kept whole in ``DeadLetter`` with the
reason, and acknowledged AE/AR (CE/CR in enhanced mode) naming that reason in MSA-3/ERR.

Binding a message to a run, in order (docs/hl7-mllp.md §5):
1. a patient identifier (PID-3) equal to a patient's MRN with a run in progress;
2. a device id (OBX-18/OBR equipment) equal to a console serial associated with a run at the message time
   (``DeviceAssociation``), or to the ``console_serial`` of a run in progress;
3. the bed (PV1-3 point of care and bed) associated with a run at the message time.
No match, or more than one, is an error (204, unknown key identifier): the message waits in the dead-letter
table until someone associates the console or bed, and the gateway may resend it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from ecmo_core import hl7v2
from ecmo_web.runs.models import EcmoRun, PatientIdentifier
from ecmo_web.surveillance.actions import MLLP, ingest_samples
from ecmo_web.surveillance.models import DeadLetter, DeviceAssociation, IngestBatch

log = logging.getLogger("ecmo.hl7")


@dataclass(frozen=True)
class ListenerConfig:
    code_map: hl7v2.CodeMap = field(default_factory=lambda: hl7v2.DEFAULT_CODE_MAP)
    default_tz: dt.tzinfo = dt.UTC
    peer: str = ""


class BindingError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _bed_keys(location: hl7v2.Location) -> set[str]:
    keys = set()
    if location.bed:
        keys.add(location.bed)
        if location.point_of_care:
            keys.add(f"{location.point_of_care}^{location.bed}")
            if location.room:
                keys.add(f"{location.point_of_care}^{location.room}^{location.bed}")
    return keys


def _active(qs: Any, at: dt.datetime) -> Any:
    return qs.filter(started_at__lte=at).filter(Q(ended_at__isnull=True) | Q(ended_at__gte=at))


def bind_run(parsed: hl7v2.ParsedMessage, *, at: dt.datetime) -> EcmoRun:
    """The run this message's observations belong to (see the module docstring), or ``BindingError``."""
    mrns = [p.id for p in parsed.patient_ids if p.id]
    if mrns:
        runs = {
            r.pk: r
            for r in _active(
                EcmoRun.objects.filter(
                    patient__in=PatientIdentifier.objects.filter(kind="mrn", value__in=mrns).values("patient")
                ),
                at,
            )
        }
        if len(runs) == 1:
            return next(iter(runs.values()))
        if len(runs) > 1:
            raise BindingError(
                f"patient identifier {', '.join(mrns)} matches {len(runs)} runs at {at:%Y-%m-%d %H:%M}"
            )
    devices = {d for d in parsed.device_ids if d} | {o.device_id for o in parsed.observations if o.device_id}
    if devices:
        by_association = {
            a.run_id for a in _active(DeviceAssociation.objects.filter(console_serial__in=devices), at)
        }
        by_run = {r.pk for r in _active(EcmoRun.objects.filter(console_serial__in=devices), at)}
        found = by_association or by_run
        if len(found) == 1:
            return EcmoRun.objects.get(pk=next(iter(found)))
        if len(found) > 1:
            raise BindingError(f"device {', '.join(sorted(devices))} is associated with {len(found)} runs")
    beds = _bed_keys(parsed.location)
    if beds:
        found = {a.run_id for a in _active(DeviceAssociation.objects.filter(bed__in=beds), at)}
        if len(found) == 1:
            return EcmoRun.objects.get(pk=next(iter(found)))
        if len(found) > 1:
            raise BindingError(f"bed {', '.join(sorted(beds))} is associated with {len(found)} runs")
    described = "; ".join(
        filter(
            None,
            [
                f"patient {', '.join(mrns)}" if mrns else "no patient identifier",
                f"device {', '.join(sorted(devices))}" if devices else "no device id",
                f"bed {', '.join(sorted(beds))}" if beds else "no bed",
            ],
        )
    )
    raise BindingError(
        f"no run in progress matches this message ({described}); associate the console or bed "
        "with the run, then resend"
    )


def _dead_letter(
    text: str,
    header: hl7v2.MessageHeader,
    error: hl7v2.HL7Error,
    config: ListenerConfig,
    run: EcmoRun | None = None,
) -> None:
    DeadLetter.objects.create(
        program=run.program if run is not None else None,
        raw_message=text,
        reason=error.message,
        error_code=str(error.code),
        error_location=error.location,
        sending_application=header.sending_application,
        control_id=header.control_id,
        peer=config.peer,
        received_at=timezone.now(),
    )
    log.warning("HL7 %s|%s dead-lettered: %s", header.sending_application, header.control_id, error)


def store(parsed: hl7v2.ParsedMessage, *, now: dt.datetime) -> tuple[EcmoRun, int, int]:
    """Bind and ingest one accepted message; returns (run, created, duplicates). Raises BindingError or
    ValidationError; the caller's transaction rolls back on either."""
    at = parsed.message_time or max((o.observed_at for o in parsed.observations), default=now)
    run = bind_run(parsed, at=at)
    if not parsed.observations:
        return run, 0, 0
    app, control_id = parsed.dedupe_key
    samples = [
        {
            "observed_at": o.observed_at,
            "parameter": o.parameter,
            "value": o.value,
            "source": f"hl7:{o.device_id or app or 'device'}",
        }
        for o in parsed.observations
    ]
    result = ingest_samples(
        actor_or_system=MLLP,
        run=run,
        samples=samples,
        batch_ref=f"{app}|{control_id}",
        kind=IngestBatch.Kind.HL7,
        now=now,
    )
    return run, result.created, result.duplicates


def handle(text: str, config: ListenerConfig | None = None) -> str:
    """Process one message and return its acknowledgement (never raises)."""
    config = config or ListenerConfig()
    close_old_connections()
    now = timezone.now()
    try:
        result = hl7v2.triage(text, code_map=config.code_map, default_tz=config.default_tz)
        header = result.header
        if result.outcome is not hl7v2.Outcome.ACCEPTED or result.parsed is None:
            assert result.error is not None
            with transaction.atomic():
                _dead_letter(text, header, result.error, config)
            return hl7v2.build_ack(
                header, code=hl7v2.ack_code(result.outcome, header), error=result.error, now=now
            )
        try:
            with transaction.atomic():
                run, created, duplicates = store(result.parsed, now=now)
        except BindingError as exc:
            error = hl7v2.HL7Error(204, exc.message, "PID", 3)
        except ValidationError as exc:
            detail = (
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            error = hl7v2.HL7Error(102, f"value refused: {detail}", "OBX", 5)
        else:
            log.info(
                "HL7 %s|%s → run %s: %d stored, %d duplicates",
                header.sending_application,
                header.control_id,
                run.pk,
                created,
                duplicates,
            )
            text_out = f"{created} stored, {duplicates} already held" if duplicates else f"{created} stored"
            return hl7v2.build_ack(
                header, code=hl7v2.ack_code(hl7v2.Outcome.ACCEPTED, header), text=text_out, now=now
            )
        with transaction.atomic():
            _dead_letter(text, header, error, config)
        return hl7v2.build_ack(header, code=hl7v2.ack_code(hl7v2.Outcome.ERROR, header), error=error, now=now)
    except Exception:  # the sender must always get an answer; log the cause for the integration team
        log.exception("HL7 message could not be processed")
        error = hl7v2.HL7Error(207, "the message could not be stored; it may be sent again")
        try:
            with transaction.atomic():
                _dead_letter(text, hl7v2.read_header(text), error, config)
        except Exception:
            log.exception("and it could not be dead-lettered either")
        return hl7v2.build_ack(text, code=hl7v2.ack_code(hl7v2.Outcome.ERROR, text), error=error, now=now)
    finally:
        # Handlers run on the event loop's worker threads, which outlive any one message: close this thread's
        # connection rather than leave it idle on a thread Django will never see again (one connect per message
        # costs a few milliseconds; a leaked connection blocks database maintenance and migrations).
        connections.close_all()
