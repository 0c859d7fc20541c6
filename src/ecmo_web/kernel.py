"""The action kernel: what every write shares, in one place.

An action function (``<app>/actions.py``) runs in ``@transaction.atomic`` and does, in order::

    kernel.require(actor, "run.edit", run)            # a person goes through permissions.can; a system passes
    at = kernel.aware(at, field="at")                 # aware UTC, or ValidationError({"at": ...})
    kernel.not_in_future(at, field="at", now=now)     # never ahead of the server clock (with a little slack)
    ... validate, write ...
    kernel.audit(actor, "run.thing_done", obj, before=..., after=snapshot(obj), reason=reason)

The actor is a person (a Django user, possibly anonymous) or a :class:`SystemActor` (the HL7 listener, the
surveillance worker, the demo seed). Why one module: the same checks written three times drifted apart (one
accepted ISO strings, two crashed on them; one allowed 1 minute of clock skew, two allowed 5) — see
docs/decisions/0005-action-kernel.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model

from ecmo_web import permissions
from ecmo_web.accounts.models import Membership, Program
from ecmo_web.audit.chain import append
from ecmo_web.audit.models import AuditEvent

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
