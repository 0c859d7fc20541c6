"""Template filters: program-local times, ages and role names; ``can`` and the role's landing page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from ecmo_web.accounts.models import Role
from ecmo_web.timezones import to_local

register = template.Library()


@register.filter
def local(value: dt.datetime | None, program: Any) -> str:
    """``{{ run.started_at|local:program }}`` → "2026-11-23 10:05" in the program's time zone."""
    shown = to_local(value, program)
    return shown.strftime("%Y-%m-%d %H:%M") if shown is not None else "—"


@register.filter
def local_time(value: dt.datetime | None, program: Any) -> str:
    shown = to_local(value, program)
    return shown.strftime("%H:%M") if shown is not None else "—"


@register.filter
def duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    hours = int(value.total_seconds() // 3600)
    return (
        f"{hours // 24} d {hours % 24} h"
        if hours >= 24
        else f"{hours} h {int(value.total_seconds() // 60) % 60} min"
    )


@register.filter
def age_at(component: Any, now: dt.datetime) -> dt.timedelta:
    return component.age(now)  # type: ignore[no-any-return]


@register.filter
def role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return value


@register.filter
def role_for(user_roles: dict[int, str] | None, program: Any) -> str:
    if not user_roles or program is None:
        return ""
    return role_label(user_roles.get(program.pk, ""))


@register.filter
def event_words(code: str) -> str:
    """An audit code in words: "check.amended" → "check amended", "education.shift_rostered" → "education shift
    rostered"; the code itself stays in the element's title for searching."""
    return str(code).replace(".", " ").replace("_", " ")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def program_nav(context: Any, program: Any) -> list[dict[str, str]]:
    """The navigation entries the current user may see in ``program``."""
    from django.urls import reverse

    from ecmo_web.contributions import nav_items
    from ecmo_web.permissions import can

    request = context.get("request")
    if request is None or program is None:
        return []
    return [
        {"label": i.label, "url": reverse(i.url_name, kwargs={"program_id": program.pk})}
        for i in nav_items()
        if can(request.user, i.action, program)
    ]


@register.simple_tag(takes_context=True)
def can(context: Any, action: str, obj: Any) -> bool:
    """``{% can "check.record" run as may_check %}``: the one permission function, for showing a control only to
    the roles that may use it (a button a role cannot use is not shown)."""
    from ecmo_web.permissions import can as allowed

    request = context.get("request")
    return request is not None and obj is not None and allowed(request.user, action, obj)


@register.simple_tag(takes_context=True)
def landing_url(context: Any, program: Any) -> str:
    """Where the current user's role starts in ``program`` (``permissions.landing``)."""
    from django.urls import reverse

    from ecmo_web.permissions import landing

    request = context.get("request")
    if request is None or program is None:
        return reverse("home")
    return reverse(landing(request.user, program), kwargs={"program_id": program.pk})


@register.filter
def cited(text: Any) -> str:
    """A source note from the core as citations a clinician can look up: "[S31, S2]" → "(EOLIA trial, …)"."""
    from ecmo_core.citations import in_words

    return in_words(str(text or ""))
