"""Append to and verify the hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from ecmo_web.audit.middleware import request_id_var
from ecmo_web.audit.models import AuditEvent, ChainHead

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so that what we hash is exactly what the JSON column stores and returns."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "program_id": event.program_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def snapshot(obj: Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-ready dict of the model's concrete fields (foreign keys as ids)."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.attname] = getattr(obj, field.attname)
    stored: dict[str, Any] = _jsonable(data)
    return stored


def hold() -> None:
    """Take the chain head's lock now, ahead of the rows the transaction will lock next.

    Lock order (a cycle between two orders is a deadlock on PostgreSQL): a run's evaluation request, then its
    evaluation cursor, then the chain head, then records (alerts, checks, decisions …). ``append`` takes the head
    when the first event is written; a transaction that locks a record *before* it audits takes the head first
    with ``hold()`` (``kernel.lock`` does), because one that audits first and then touches a record (a check that
    judges its run and so updates that run's alerts) takes them in this order. Idempotent within a transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("hold the audit chain only inside the transaction that will write to it")
    _lock_head()


def append(
    *,
    actor: Any,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    program_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor_name: str = "",
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction (the write it describes)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be written in the same transaction as the change they record")
    if obj is not None:
        from ecmo_web.permissions import program_id_of

        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or str(obj.pk)
        if program_id is None and hasattr(type(obj), "program_path"):
            program_id = program_id_of(obj)
    user = actor if getattr(actor, "is_authenticated", False) else None
    prev_hash = _lock_head()
    event = AuditEvent(
        at=timezone.now(),
        actor=user,
        actor_name=actor_name or (user.get_username() if user is not None else "system"),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=str(obj)[:200] if obj is not None else "",
        program_id=program_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        reason=reason,
        request_id=request_id_var.get(),
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(event)
    _insert(event)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(ChainHead)} SET last_hash = %s, count = count + 1 WHERE id = 1",  # noqa: S608
            [event.hash],
        )
    return event


# The chain is appended to by every write of the application (the HL7 listener once per committed group), so the
# three statements of an append are plain SQL rather than the ORM's get_or_create and two saves: the same rows,
# about half the time. Table and column names come from the models; every value is a bound parameter.


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _lock_head() -> str:
    """The chain's last hash, its head row locked until the caller's transaction ends (PostgreSQL: FOR UPDATE, which
    serialises appends; SQLite: the transaction already holds the database's write lock)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_hash FROM {_table(ChainHead)} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
    if row is not None:
        return str(row[0])
    head, _ = ChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_hash": GENESIS})
    return head.last_hash


_EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _insert(event: AuditEvent) -> None:
    """INSERT the event (each value prepared by its field, as ``save()`` would) and set its primary key; the
    model's pre_save and post_save signals are sent as ``save()`` sends them (the tests' audit guard listens)."""
    using = connection.alias
    pre_save.send(sender=AuditEvent, instance=event, raw=False, using=using, update_fields=None)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _EVENT_FIELDS)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _EVENT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(AuditEvent)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id",
            values,
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = using
    post_save.send(
        sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False, using=using
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    problem: str = ""


def verify() -> VerifyResult:
    """Walk the chain in id order: every event must hash to its stored hash and point at its predecessor."""
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev:
            return VerifyResult(
                False,
                checked,
                event.id,
                "prev_hash does not match the previous event: an event was removed or reordered",
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(
                False, checked, event.id, "content does not match its hash: the event was edited"
            )
        prev = event.hash
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != prev or head.count != checked):
        return VerifyResult(
            False, checked, None, "the chain ends early: events after the last one were removed"
        )
    return VerifyResult(True, checked)
