"""Permission-checked getters for views and API handlers.

An object in a program the user has no membership of is a 404 (its existence is not disclosed); an action the
user's role lacks is a 403.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from ecmo_web.permissions import can, program_id_of, role_in

M = TypeVar("M", bound=Model)


def get_checked(queryset: QuerySet[M], user: Any, action: str, **lookup: Any) -> M:
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("not found")
    program_id = program_id_of(obj)
    if program_id is None or role_in(user, program_id) is None:
        raise Http404("not found")
    if not can(user, action, obj):
        raise PermissionDenied(f"your role does not permit {action}")
    return obj
