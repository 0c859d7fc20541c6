"""The action kernel: what every write shares, in one place.

An action function (``<app>/actions.py``) runs in ``@transaction.atomic`` and does, in order::

    kernel.require(actor, "run.edit", run)            # a person goes through permissions.can; a system passes
    at = kernel.aware(at, field="at")                 # aware UTC, or ValidationError({"at": ...})
    kernel.not_in_future(at, field="at", now=now)     # never ahead of the server clock (with a little slack)
    ... validate, write ...
    kernel.audit(actor, "run.thing_done", obj, before=..., after=snapshot(obj), reason=reason)

An action that edits a record people edit from a form also locks it and checks the version the form was opened
at, so that two people amending the same record at once never lose an update (decision 0005, docs/reliability.md)::

    kernel.lock(thing)                                # select_for_update, reloaded; Thing is versioning.Versioned
    kernel.expect_version(thing, version)             # VersionConflict (a ValidationError) if someone got there first
    ... write; save() moves the version on ...

The actor is a person (a Django user, possibly anonymous) or a :class:`SystemActor` (the HL7 listener, the
surveillance worker, the demo seed). Why one module: the same checks written three times drifted apart (one
accepted ISO strings, two crashed on them; one allowed 1 minute of clock skew, two allowed 5) — see
docs/decisions/0005-action-kernel.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model

from ecmo_web import permissions, timezones
from ecmo_web.accounts.models import Membership, Program
from ecmo_web.audit.chain import append, hold
from ecmo_web.audit.models import AuditEvent

M = TypeVar("M", bound=Model)

# A workstation or console clock slightly ahead of the server is not an error; more than this is.
CLOCK_SKEW = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SystemActor:
    """A trusted server-side process (the HL7 listener, the surveillance worker, the demo seed).

    It passes permission checks — it has no membership and is never built from a request — and is named in the
    audit trail (``system:mllp``). It is not a user: columns that record a person stay empty.
    """

    name: str
    is_authenticated: bool = False
    is_active: bool = True

    def get_username(self) -> str:
        return self.name


# A person (``settings.AUTH_USER_MODEL`` instance or ``AnonymousUser``) or a SystemActor. ``Any`` because
# django-stubs types foreign keys to the concrete user model, which callers assign ``user_of(actor)`` to.
Actor: TypeAlias = Any


def is_system(actor: Actor) -> bool:
    return isinstance(actor, SystemActor)


def user_of(actor: Actor) -> Any:
    """The person behind ``actor`` for a ``created_by``-style column: a signed-in user, else None."""
    return actor if getattr(actor, "is_authenticated", False) else None


def actor_name(actor: Actor) -> str:
    """How the audit trail and stored rows name the actor: a system's name, a username, or ``"system"``."""
    if isinstance(actor, SystemActor):
        return actor.name
    user = user_of(actor)
    return str(user.get_username()) if user is not None else "system"


def require(actor: Actor, action: str, obj: Model) -> None:
    """Raise PermissionDenied unless the actor may do ``action`` on ``obj``; a SystemActor always may."""
    if isinstance(actor, SystemActor):
        if action not in permissions.ACTIONS:  # a misspelt action is a bug even for a system actor
            raise permissions.UnknownAction(action)
        return
    permissions.require(actor, action, obj)


def audit(
    actor: Actor,
    action: str,
    obj: Model | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str = "",
    program_id: int | None = None,
) -> AuditEvent:
    """Append one audit event for ``actor`` in the caller's transaction (it rolls back with the write)."""
    return append(
        actor=user_of(actor),
        actor_name=actor_name(actor),
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        program_id=program_id,
        before=before,
        after=after,
        reason=reason,
    )


def aware(value: Any, *, field: str, tz: dt.tzinfo | None = None) -> dt.datetime:
    """``value`` (a datetime or an ISO 8601 string) as an aware UTC datetime, or ValidationError({field: ...}).

    A value without a UTC offset is refused — unless ``tz`` is given, in which case it is wall-clock time there
    (a form in the program's time zone).
    """
    parsed: object = value
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValidationError(
                {field: f"{value!r} is not an ISO 8601 date and time (e.g. 2026-11-20T10:00:00Z)"}
            ) from None
    if not isinstance(parsed, dt.datetime):
        raise ValidationError({field: "must be a date and time (ISO 8601 with a UTC offset or Z)"})
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        if tz is None:
            raise ValidationError({field: "must include a time zone (UTC offset or Z)"})
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


def not_in_future(
    value: dt.datetime, *, field: str, now: dt.datetime, slack: dt.timedelta = CLOCK_SKEW
) -> dt.datetime:
    """``value`` unchanged if it is no later than ``now + slack``; ValidationError({field: ...}) otherwise."""
    latest = now + slack
    if value > latest:
        raise ValidationError(
            {
                field: f"cannot be in the future: the latest accepted time is {latest.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
            }
        )
    return value


def member_role(program: Program | int, user: Any) -> str | None:
    """The user's active role in ``program`` (None when not a member, or not a signed-in user)."""
    if user_of(user) is None:
        return None
    program_id = program if isinstance(program, int) else program.pk
    membership = Membership.objects.filter(program_id=program_id, user=user, active=True).first()
    return membership.role if membership is not None else None


def _member_or_error(program: Program | int, user: Any, value: Any, field: str) -> Any:
    if user is None or member_role(program, user) is None:
        raise ValidationError({field: f"{value!s} is not a member of this program"})
    return user


def user_by_id(program: Program | int, user_id: int, *, field: str) -> Any:
    """The active member of ``program`` with this user id, or ValidationError({field: ...})."""
    found = get_user_model().objects.filter(pk=user_id).first()
    return _member_or_error(program, found, user_id, field)


def user_named(program: Program | int, username: str, *, field: str) -> Any:
    """The active member of ``program`` with this username, or ValidationError({field: ...})."""
    found = get_user_model().objects.filter(username=str(username)).first()
    return _member_or_error(program, found, username, field)


def member(program: Program | int, value: Any, *, field: str) -> Any:
    """A member of ``program`` from a user, a user id (int) or a username (str)."""
    if isinstance(value, get_user_model()):
        return _member_or_error(program, value, value, field)
    if isinstance(value, int) and not isinstance(value, bool):
        return user_by_id(program, value, field=field)
    return user_named(program, str(value), field=field)


# --- optimistic versions ----------------------------------------------------------------------------------------

# How many changed fields a conflict message lists, and how long each value may be.
_CONFLICT_FIELDS, _CONFLICT_VALUE_CHARS = 8, 80
# Bookkeeping a conflict message leaves out (and every ``*_id``: a number means nothing to the reader).
_NOT_SHOWN = frozenset(
    {"id", "version", "updated_at", "created_at", "recorded_at", "history", "prefill_detail"}
)


class VersionConflict(ValidationError):
    """Someone changed the record after the form (or API client) read it: nothing was saved.

    A ValidationError keyed by ``field`` (so forms show it like any other error); the API answers 409 with the
    field named. ``current`` is the version now stored.
    """

    def __init__(self, field: str, message: str, *, current: int | str | None) -> None:
        super().__init__({field: message})
        self.field, self.current = field, current


def _shown(value: Any) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= _CONFLICT_VALUE_CHARS else text[: _CONFLICT_VALUE_CHARS - 1] + "…"


def _changes(event: AuditEvent | None) -> str:
    """ "Their values: field: value; …" from an audit event's before and after (the fields it changed)."""
    if event is None or not isinstance(event.after, dict):
        return ""
    before = event.before if isinstance(event.before, dict) else {}
    changed = [
        (name, value)
        for name, value in event.after.items()
        if name not in _NOT_SHOWN and not name.endswith("_id") and before.get(name) != value
    ]
    if not changed:
        return ""
    parts = [f"{name.replace('_', ' ')}: {_shown(value) or '(empty)'}" for name, value in changed]
    more = len(parts) - _CONFLICT_FIELDS
    listed = "; ".join(parts[:_CONFLICT_FIELDS]) + (f"; and {more} more" if more > 0 else "")
    return f" Their values: {listed}."


def last_change(obj: Model) -> tuple[AuditEvent | None, str, str]:
    """Who changed ``obj`` last and when, from the audit trail (its latest event): (event, "intensivist", " at 10:07"
    in program time), or (None, "Someone", "") when it has none. A record needs no extra columns for it."""
    event = (
        AuditEvent.objects.filter(
            object_type=f"{obj._meta.app_label}.{obj._meta.model_name}", object_id=str(obj.pk)
        )
        .order_by("-id")
        .first()
    )
    if event is None:
        return None, "Someone", ""
    program_id = permissions.program_id_of(obj)
    program = Program.objects.filter(pk=program_id).first() if program_id is not None else None
    local = timezones.to_local(event.at, program)
    return event, event.actor_name, f" at {local:%H:%M}"


def conflict(obj: Model, *, field: str = "version", current: int | None = None) -> VersionConflict:
    """The refusal for a write based on a stale copy of ``obj``: who changed it last, when (program time), what."""
    event, who, when = last_change(obj)
    message = (
        f"{who} changed this{when} while you were editing; your changes were not saved — review theirs and apply "
        f"yours again.{_changes(event)}"
    )
    return VersionConflict(field, message, current=current)


def lock(obj: M) -> M:
    """Lock ``obj``'s row until the transaction ends and reload it in place (the caller's instance is current).

    The audit chain head is taken first (``audit.chain.hold``: the lock order), as the action will audit."""
    hold()
    obj.refresh_from_db(from_queryset=type(obj)._default_manager.select_for_update())
    return obj


# A version, or a ``based_on`` row id, as the editor's form (text) or an API client (a number) sent it; None or ""
# when none was sent. expect_version and expect_latest check it.
Submitted = int | str | None


def expect_version(obj: Model, submitted: Any, *, field: str = "version") -> None:
    """Refuse (``VersionConflict``) unless ``obj`` is still at the version the editor ``submitted``.

    Call it on the row locked with ``select_for_update()`` in the action's transaction, before writing, then
    ``bump_version``. ``submitted`` None or "" means the caller sent no version (an API client that does not
    send one): the write goes ahead, the last one winning. Anything else must be a whole number.
    """
    if submitted is None or submitted == "":
        return
    try:
        expected = int(submitted)
    except (TypeError, ValueError):
        raise ValidationError({field: "must be the whole-number version the record was read at"}) from None
    if isinstance(submitted, bool) or (isinstance(submitted, float) and submitted != expected):
        raise ValidationError({field: "must be the whole-number version the record was read at"})
    current = int(getattr(obj, field))
    if expected != current:
        raise conflict(obj, field=field, current=current)


def expect_latest(latest: Model | None, submitted: Any, *, field: str = "based_on") -> None:
    """For settings kept as history (each change a new row): refuse unless the newest row is still the one the
    editor's form was based on (``submitted`` its id, 0 when there was none). Lock the owner (the program) first
    so that changes are taken one at a time. None or "" sent: no check."""
    if submitted is None or submitted == "":
        return
    try:
        expected = int(submitted)
    except (TypeError, ValueError):
        raise ValidationError({field: "must be the id of the settings the form was opened on"}) from None
    current = 0 if latest is None else int(latest.pk)
    if expected != current:
        if latest is None:
            raise ValidationError({field: "these settings have no earlier version: reload the page"})
        raise conflict(latest, field=field, current=current)
