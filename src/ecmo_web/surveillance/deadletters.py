"""Every new dead letter (a message that could not be taken) is audited in the transaction that stores it.

``record_dead_letter(...)`` stores one and names who parked it (default ``system:mllp``); the HL7 listener and any
other way in may call it. A ``DeadLetter`` created any other way (``DeadLetter.objects.create`` in the listener)
is audited too, by the ``post_save`` receiver below, so that no path can add one silently. The audit event names
the program when the message could be tied to one (so that program's auditors see it) and records the reason and
where the message came from — never the message itself, which may carry patient identifiers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from ecmo_web.kernel import SystemActor, audit
from ecmo_web.surveillance.models import DeadLetter

DEFAULT_ACTOR = "system:mllp"


def _audit_new_dead_letter(sender: Any, instance: DeadLetter, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    with transaction.atomic():  # joins the caller's transaction when there is one
        audit(
            SystemActor(getattr(instance, "_audit_actor_name", DEFAULT_ACTOR)),
            action="deadletter.created",
            obj=instance,
            program_id=instance.program_id,
            after={
                "reason": instance.reason,
                "error_code": instance.error_code,
                "error_location": instance.error_location,
                "sending_application": instance.sending_application,
                "control_id": instance.control_id,
                "peer": instance.peer,
                "bytes": len(instance.raw_message.encode()),
            },
        )


post_save.connect(_audit_new_dead_letter, sender=DeadLetter, dispatch_uid="audit-new-dead-letter")


@transaction.atomic
def record_dead_letter(
    *,
    raw_message: str,
    reason: str,
    program: Any = None,
    error_code: str = "",
    error_location: str = "",
    sending_application: str = "",
    control_id: str = "",
    peer: str = "",
    received_at: dt.datetime | None = None,
    actor_name: str = DEFAULT_ACTOR,
) -> DeadLetter:
    """Store a message that was not taken; audited as ``deadletter.created`` by ``actor_name``."""
    letter = DeadLetter(
        program=program,
        raw_message=raw_message,
        reason=reason,
        error_code=error_code,
        error_location=error_location,
        sending_application=sending_application,
        control_id=control_id,
        peer=peer,
        received_at=received_at or timezone.now(),
    )
    letter._audit_actor_name = actor_name  # type: ignore[attr-defined]
    letter.save()
    return letter
