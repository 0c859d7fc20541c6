"""The HTTP API at /api/v1 (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Auth: the browser session (CSRF enforced by ninja's cookie auth) or ``Authorization: Bearer <token>`` from
``POST /api/v1/auth/token`` (expiring, revocable with ``DELETE /api/v1/auth/token``). Handlers check ``can()`` through ``shortcuts.get_checked``: a run outside the
caller's programs is a 404, an action the role lacks a 403. Errors are JSON ``{"detail": ...}``; bad input is
a 4xx naming the field, never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from ecmo_core.errors import InputError
from ecmo_web import contributions, kernel
from ecmo_web.accounts import throttle, tokens
from ecmo_web.accounts.models import ApiToken


class BearerToken(HttpBearer):
    """A live token (not expired, not revoked) of an active user; anything else is a 401."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.lookup(token)
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


class Session(APIKeyCookie):
    """Django session; ninja checks the CSRF token on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


api = NinjaAPI(
    title="ECMO Steward API",
    version="1",
    description="Runs, circuit checks, telemetry, alerts, decisions, rounds and exports of an ECMO program.",
    auth=[BearerToken(), Session()],
    urls_namespace="api-v1",
)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail: Any = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return api.create_response(request, {"detail": detail}, status=400)


@api.exception_handler(kernel.VersionConflict)
def _version_conflict(request: HttpRequest, exc: kernel.VersionConflict) -> HttpResponse:
    """Someone changed the record since the client read it (the ``version`` it sent): nothing was saved."""
    body = {"detail": exc.message_dict, "field": exc.field, "current_version": exc.current}
    return api.create_response(request, body, status=409)


@api.exception_handler(InputError)
def _input_error(request: HttpRequest, exc: InputError) -> HttpResponse:
    return api.create_response(request, {"detail": {exc.field: [exc.message]}}, status=400)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "authentication required"}, status=401)


class TokenIn(Schema):
    username: str
    password: str
    otp: str = ""  # the one-time code, required when the user has an authenticator or their role needs one


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


@api.post("/auth/token", auth=None, response={200: TokenOut, 401: dict, 429: dict}, tags=["auth"])
def issue_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Exchange a username and password for a bearer token that expires (``ECMO_API_TOKEN_HOURS``, default
    12 h). The raw token is shown only here; only its hash is stored. Throttled per user; audited."""
    if throttle.is_locked(payload.username):
        return Status(429, {"detail": throttle.LOCKED_MESSAGE})
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        throttle.record_failure(payload.username)
        return Status(401, {"detail": "unknown username or wrong password"})
    from ecmo_web.security import has_authenticator, requires_second_factor

    if has_authenticator(user) or requires_second_factor(user):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        code = payload.otp.strip()
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        if not code or not any(device.verify_token(code) for device in devices):
            throttle.record_failure(payload.username)
            return Status(401, {"detail": "otp: a valid six-digit one-time code is required for this user"})
    throttle.record_success(payload.username)
    try:
        token, raw = tokens.issue_token(user=user, label="api")
    except tokens.TokenThrottled as exc:
        return Status(429, {"detail": str(exc)})
    return Status(200, {"token": raw, "expires_at": token.expires_at})


@api.delete("/auth/token", auth=BearerToken(), response={204: None}, tags=["auth"])
def revoke_token(request: HttpRequest) -> Status[None]:
    """Revoke the bearer token of this request; it gets a 401 from now on."""
    tokens.revoke_token(actor=request.user, token=request.api_token)  # type: ignore[attr-defined]
    return Status(204, None)


# Each app's routers (``AppConfig.contributions().api_routers``), in INSTALLED_APPS order.
for _prefix, _router in contributions.api_routers():
    api.add_router(_prefix, _router)
