from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ecmo_web.permissions import roles_by_program


def program_context(request: HttpRequest) -> dict[str, Any]:
    """The user's roles by program, for the header (which role am I acting in?)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_roles": roles_by_program(user)}
