"""A guard for the web tests: every write to a program-scoped model happens inside an action that audits it.

While a test runs, each save or delete of a model with a non-empty ``program_path`` is recorded with the
transaction level it happened in: the outermost savepoint above the test's own transaction, which is the
outermost action (``@transaction.atomic``) in progress. Each audit event appended is recorded the same way. At
the end of the test, a write made outside any action (straight in the test's transaction) or inside an action
that appended no audit event fails the test, naming the model and the code that wrote it.

Fixtures that create data by hand opt out explicitly with ``unaudited()`` (or the ``unaudited`` fixture for a
whole test). Derived state that evaluation recomputes from audited data (rule states, evaluation cursors) is not
checked, nor is the audit trail itself. A row created and deleted again within one action changed nothing. Writes
rolled back with their action (an action that raised) are not counted. Tests that run outside a
test transaction (live servers) are not guarded. ``queryset.update`` and ``bulk_create`` send no signals and
are not seen: the guard catches the common mistake, not every one.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save

EXEMPT = {"surveillance.rulestate", "surveillance.evaluationcursor", "audit.auditevent"}

_state: dict[str, Any] = {"guard": None, "paused": 0}


@dataclass
class Write:
    label: str
    pk: Any
    deleted: bool
    key: str | None
    where: str


@dataclass
class Guard:
    base: int
    writes: list[Write] = field(default_factory=list)
    audited: set[str] = field(default_factory=set)

    def key(self) -> str | None:
        """The savepoint of the outermost action in progress (None: straight in the test's transaction)."""
        if len(connection.savepoint_ids) <= self.base:
            return None
        return str(connection.savepoint_ids[self.base])

    def problems(self) -> list[str]:
        found = []
        # A row an action created and deleted again (e.g. an empty batch) changed nothing.
        undone = {(w.label, w.pk, w.key) for w in self.writes if w.deleted}
        for write in self.writes:
            if write.key is not None and write.key in self.audited:
                continue
            if write.key is not None and (write.label, write.pk, write.key) in undone:
                continue
            if not write.deleted and not _still_there(write):
                continue  # rolled back with the action that raised
            kind = "outside any action" if write.key is None else "in an action that wrote no audit event"
            found.append(
                f"{write.label} #{write.pk} {'deleted' if write.deleted else 'saved'} {kind}\n{write.where}"
            )
        return found


def _still_there(write: Write) -> bool:
    from django.apps import apps

    model = apps.get_model(write.label)
    return bool(model._default_manager.filter(pk=write.pk).exists())


def _caller() -> str:
    frames = [
        f
        for f in traceback.extract_stack()[:-3]
        if "/site-packages/" not in f.filename and "audit_guard" not in f.filename
    ]
    return "".join(traceback.format_list(frames[-4:]))


def _on_write(sender: Any, instance: Any, **kwargs: Any) -> None:
    guard: Guard | None = _state["guard"]
    if guard is None or _state["paused"] or kwargs.get("raw"):
        return
    if not getattr(sender, "program_path", ""):
        return
    label = f"{sender._meta.app_label}.{sender._meta.model_name}"
    if label in EXEMPT:
        return
    key = guard.key()
    if key is not None and key in guard.audited:
        return  # already audited in this action
    deleted = "created" not in kwargs
    if deleted and key is not None:  # remember the pk now: Django clears it after the delete
        guard.writes.append(Write(label, instance.pk, True, key, _caller()))
        return
    guard.writes.append(Write(label, instance.pk, deleted, key, _caller()))


def _on_audit(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    guard: Guard | None = _state["guard"]
    if guard is not None and created:
        key = guard.key()
        if key is not None:
            guard.audited.add(key)


@contextlib.contextmanager
def unaudited() -> Iterator[None]:
    """Opt out: data a test or fixture writes by hand, on purpose, without an action."""
    _state["paused"] += 1
    try:
        yield
    finally:
        _state["paused"] -= 1


@contextlib.contextmanager
def guarding() -> Iterator[Guard | None]:
    if not connection.in_atomic_block:  # a live-server test commits for real: not guarded
        yield None
        return
    from ecmo_web.audit.models import AuditEvent

    guard = Guard(base=len(connection.savepoint_ids))
    outer, _state["guard"] = _state["guard"], guard
    post_save.connect(_on_write, dispatch_uid="audit-guard-save")
    post_delete.connect(_on_write, dispatch_uid="audit-guard-delete")
    post_save.connect(_on_audit, sender=AuditEvent, dispatch_uid="audit-guard-audit")
    try:
        yield guard
    finally:
        _state["guard"] = outer
        if outer is None:
            post_save.disconnect(dispatch_uid="audit-guard-save")
            post_delete.disconnect(dispatch_uid="audit-guard-delete")
            post_save.disconnect(sender=AuditEvent, dispatch_uid="audit-guard-audit")
