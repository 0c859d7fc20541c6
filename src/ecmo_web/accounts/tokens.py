"""Issuing and revoking API tokens: expiring, revocable, throttled per user, audited.

A token lives ``ECMO_API_TOKEN_HOURS`` (default 12 h, one shift); only its SHA-256 is stored and the raw value
is shown once. A user may issue at most ``ISSUE_LIMIT`` tokens per hour (a script in a loop is stopped before
it fills the table); revoking is immediate. Both write an audit event naming the token, never its value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web.accounts.models import ApiToken
from ecmo_web.kernel import audit

ISSUE_LIMIT = 20
ISSUE_WINDOW_SECONDS = 3600
THROTTLED_MESSAGE = (
    f"Too many tokens issued for this user in the last hour (at most {ISSUE_LIMIT}): reuse one, or wait."
)


class TokenThrottled(Exception):
    pass


def _issue_key(user: Any) -> str:
    return f"ecmo:token-issues:{user.pk}"


def _count_issue(user: Any) -> None:
    key = _issue_key(user)
    if cache.add(key, 1, ISSUE_WINDOW_SECONDS):
        return
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, ISSUE_WINDOW_SECONDS)
        return
    if count > ISSUE_LIMIT:
        raise TokenThrottled(THROTTLED_MESSAGE)


def _after(token: ApiToken) -> dict[str, Any]:
    return {
        "token": token.pk,
        "label": token.label,
        "expires_at": token.expires_at,
        "revoked": token.revoked,
    }


@transaction.atomic
def issue_token(*, user: Any, label: str = "api", now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token for ``user`` (already authenticated by password); raises ``TokenThrottled``."""
    if not getattr(user, "is_active", False):
        raise PermissionDenied("inactive user")
    _count_issue(user)
    token, raw = ApiToken.issue(user, label=label.strip()[:80], now=now)
    audit(
        user,
        action="api_token.issued",
        object_type="accounts.apitoken",
        object_id=str(token.pk),
        after=_after(token),
    )
    return token, raw


@transaction.atomic
def revoke_token(*, actor: Any, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revoke ``token`` (its owner, or a superuser). Revoking a revoked token is an error naming the time."""
    if token.user_id != getattr(actor, "pk", None) and not getattr(actor, "is_superuser", False):
        raise PermissionDenied("only the token's owner can revoke it")
    now = now or timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked=False).update(revoked=True, revoked_at=now)
    token.refresh_from_db()
    if not revoked:
        when = f" at {token.revoked_at:%Y-%m-%d %H:%M} UTC" if token.revoked_at else ""
        raise ValidationError({"token": f"already revoked{when}"})
    audit(
        actor,
        action="api_token.revoked",
        object_type="accounts.apitoken",
        object_id=str(token.pk),
        before={"revoked": False},
        after=_after(token),
    )
    return token
