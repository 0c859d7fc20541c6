"""Styled error pages with a way back (issue 11 §6): a refusal (403), a page not found (404) and a failed form
check (CSRF) render inside the site's frame, say in clinical words what happened, and offer the previous page and
the user's home. Nothing here discloses whether a record exists in a program the user is not a member of (that
is a 404, the same as a record that does not exist)."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from ecmo_web.permissions import ACTIONS

_ACTION = re.compile(r"\b([a-z_]+\.[a-z_]+)\b")


def _way_back(request: HttpRequest) -> str | None:
    """The page the user came from, if it is on this site (never an outside address)."""
    referer = str(request.META.get("HTTP_REFERER", ""))
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


def refused_action(exception: Exception | None) -> str | None:
    """What the refused action lets a member do, in words ("Record the hourly circuit check"), when the refusal
    names an action of the permission matrix."""
    match = _ACTION.search(str(exception or ""))
    if match and match.group(1) in ACTIONS:
        return ACTIONS[match.group(1)]
    return None


def _page(request: HttpRequest, template: str, status: int, **context: Any) -> HttpResponse:
    return render(request, template, {"back": _way_back(request), **context}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "403.html", 403, refused=refused_action(exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "404.html", 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, "403_csrf.html", 403)
