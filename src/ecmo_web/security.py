"""HTTP hardening that Django 5.2 leaves to the site: a Content-Security-Policy, an idle timeout for shared ward
terminals, and two-factor enforcement.

- ``SecurityHeadersMiddleware`` sends a strict CSP (scripts only from this origin, no framing, no plug-ins;
  a site whose EHR shows SMART-launched pages in a frame lists the EHR's origins in ``ECMO_FRAME_ANCESTORS``),
  a Permissions-Policy that turns off camera, microphone and geolocation, and Cross-Origin-Opener-Policy.
  Styles keep ``'unsafe-inline'`` because pages position timeline bars with ``style`` attributes; scripts
  never do (there is no inline script or event-handler attribute in any template, and a test keeps it so).
- ``IdleTimeoutMiddleware`` signs a user out after ``ECMO_IDLE_SECONDS`` (default 30 min) without a request
  they made themselves. Requests a page sends on its own to stay live carry ``X-Ecmo-Background: 1`` and do
  not count as activity, so a ward monitor showing a run does not keep a walked-away session alive for ever.
- ``TwoFactorMiddleware`` sends a signed-in user to the one-time-code page until this session has been
  verified, when the user has a confirmed authenticator or holds a role for which the site requires one
  (``ECMO_REQUIRE_2FA_ROLES``, e.g. ``director,admin``); such a user without an authenticator is sent to set
  one up first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse


def content_security_policy(frame_ancestors: list[str]) -> str:
    """The site's CSP; ``frame_ancestors`` (``ECMO_FRAME_ANCESTORS``) are the origins allowed to embed its pages."""
    ancestors = " ".join(["'self'", *frame_ancestors]) if frame_ancestors else "'none'"
    return CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "media-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

Handler = Callable[[HttpRequest], HttpResponse]


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The API documentation page loads Swagger UI from a CDN in django-ninja; it is the one page allowed to.
        if request.path.startswith("/api/v1/docs"):
            return response
        ancestors: list[str] = getattr(settings, "ECMO_FRAME_ANCESTORS", [])
        response.headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
        if ancestors:
            # X-Frame-Options cannot name origins (ALLOW-FROM is obsolete); the CSP's frame-ancestors says who may.
            del response.headers["X-Frame-Options"]
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


SESSION_LAST_SEEN = "ecmo_last_seen"
SESSION_SECOND_FACTOR = "ecmo_second_factor"
# Activity is written to the session at most once a minute: a page's requests don't each cost a session write.
ACTIVITY_RESOLUTION_SECONDS = 60


def on_sign_in(request: HttpRequest, user: Any) -> None:
    """At sign-in: start the idle clock and note whether this user needs a second factor in this session."""
    request.session[SESSION_LAST_SEEN] = time.time()
    request.session[SESSION_SECOND_FACTOR] = has_authenticator(user) or requires_second_factor(user)


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(SESSION_LAST_SEEN)
            if last is not None and now - float(last) > settings.ECMO_IDLE_SECONDS:
                logout(request)
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = reverse("login")
                    return response
                return HttpResponseRedirect(f"{reverse('login')}?next={request.get_full_path()}")
            # Never move the clock backwards (a corrected server clock), and write at most once a minute.
            if request.headers.get("X-Ecmo-Background") != "1" and (
                last is None or now - float(last) >= ACTIVITY_RESOLUTION_SECONDS
            ):
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


def requires_second_factor(user: Any) -> bool:
    """True when the site requires an authenticator for one of the user's active roles."""
    required = set(settings.ECMO_REQUIRE_2FA_ROLES)
    if not required:
        return False
    if user.is_superuser and "admin" in required:
        return True
    from ecmo_web.permissions import roles_by_program

    return bool(required & set(roles_by_program(user).values()))


def has_authenticator(user: Any) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())  # django-otp is untyped


_EXEMPT_PREFIXES = ("/static/", "/login/", "/logout/", "/account/two-factor/", "/api/v1/auth/token")


class TwoFactorMiddleware:
    """Runs after django_otp's OTPMiddleware, which tells whether this session was verified."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_EXEMPT_PREFIXES)
            and self._needed(request, user)
            and not user.is_verified()
        ):
            if request.path.startswith("/api/") and (has_authenticator(user) or requires_second_factor(user)):
                return JsonResponse(
                    {"detail": "two-factor verification required: sign in on the web page"}, status=401
                )
            if has_authenticator(user):
                return HttpResponseRedirect(f"{reverse('two_factor_verify')}?next={request.get_full_path()}")
            if requires_second_factor(user):
                return HttpResponseRedirect(reverse("two_factor_setup"))
        return self.get_response(request)

    @staticmethod
    def _needed(request: HttpRequest, user: Any) -> bool:
        needed = request.session.get(SESSION_SECOND_FACTOR)
        if needed is None:  # a session from before this setting: decide once and remember
            needed = has_authenticator(user) or requires_second_factor(user)
            request.session[SESSION_SECOND_FACTOR] = needed
        return bool(needed)
