"""Cheap "has anything changed?" answers for pages that refresh themselves (decision 0008).

Every write in ECMO Steward appends an audit event carrying its program (decision 0005: samples ingested, checks,
alert transitions, acknowledgements …), so the newest audit event id of a program is a change counter that costs
one indexed query. A page's ETag hashes that counter with the viewer (different roles see different things), the
page's own key and a time bucket (ages such as "3 min ago" and the stale marks move with the clock). A poll whose
``If-None-Match`` matches gets ``304 Not Modified`` before any rendering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone

from ecmo_web.audit.models import AuditEvent

BACKGROUND_HEADER = "X-Ecmo-Background"


def refresh_seconds() -> float:
    """How often a live fragment polls (site setting ``ECMO_LIVE_POLL_SECONDS``, default 2.5 s: a new critical
    alert shows within one poll plus one render, inside the 5 s the ward asked for)."""
    return float(getattr(settings, "ECMO_LIVE_POLL_SECONDS", 2.5))


def _bucket_seconds() -> int:
    # Ages on screen are shown to the minute; re-rendering every 30 s keeps them honest without costing renders.
    return int(getattr(settings, "ECMO_LIVE_CLOCK_SECONDS", 30))


def change_counter(program_ids: Iterable[int]) -> int:
    """The newest audit event id among ``program_ids`` (0 if none): it moves whenever anything is written."""
    ids = list(program_ids)
    if not ids:
        return 0
    newest = (
        AuditEvent.objects.filter(program_id__in=ids).order_by("-pk").values_list("pk", flat=True).first()
    )
    return int(newest or 0)


def etag_for(request: HttpRequest, key: str, counter: int, now: dt.datetime | None = None) -> str:
    """A quoted strong ETag for ``key`` as this user sees it at ``counter`` in the current time bucket."""
    now = now or timezone.now()
    bucket = int(now.timestamp()) // _bucket_seconds()
    user = getattr(request.user, "pk", None)
    raw = f"{key}|{user}|{counter}|{bucket}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:20] + '"'


def not_modified(request: HttpRequest, etag: str) -> bool:
    return etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]


def conditional(etag: str, request: HttpRequest, render: Callable[[], HttpResponse]) -> HttpResponse:
    """``304`` if the client already has ``etag``; else the rendered response carrying it. Never cached by
    shared caches (patient data): ``Cache-Control: private, no-cache``."""
    response: HttpResponse = HttpResponseNotModified() if not_modified(request, etag) else render()
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def live_page(key_and_programs: Callable[..., tuple[str, list[int]]]) -> Callable[..., Any]:
    """Decorate a whole page view so it can poll itself: ``key_and_programs(request, **kwargs)`` returns the
    page's key and the programs whose changes it shows (after checking access). Only polls (``X-Ecmo-Background:
    1``) are keyed: a matching ``If-None-Match`` costs no render; ``request.live_etag`` is what the page embeds
    in ``data-live-etag`` for the next poll."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.headers.get(BACKGROUND_HEADER) != "1":
                # A person opening the page always gets a fresh render (messages, forms) at no extra cost; the
                # page's first poll then renders once and learns its ETag. Only polls can be answered 304.
                request.live_etag = ""  # type: ignore[attr-defined]
                return view(request, *args, **kwargs)
            key, programs = key_and_programs(request, *args, **kwargs)
            etag = etag_for(request, key, change_counter(programs))
            request.live_etag = etag  # type: ignore[attr-defined]
            return conditional(etag, request, lambda: view(request, *args, **kwargs))

        return wrapped

    return decorate


def program_page(name: str) -> Callable[..., tuple[str, list[int]]]:
    """Key function for :func:`live_page` on a page of one program (URL keyword ``program_id``): checks that
    the user may view the program (404 otherwise) and keys the page by its path."""

    def key(request: HttpRequest, program_id: int, **kwargs: Any) -> tuple[str, list[int]]:
        from ecmo_web.accounts.models import Program
        from ecmo_web.shortcuts import get_checked

        get_checked(Program.objects.all(), request.user, "run.view", pk=program_id)
        return f"{name}:{request.get_full_path()}", [program_id]

    return key
