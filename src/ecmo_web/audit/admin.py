from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ecmo_web.audit.models import AuditEvent
from ecmo_web.permissions import programs_for, restrict


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only, and only the events of programs where the user holds ``audit.view``."""

    list_display = ("at", "actor_name", "action", "object_type", "object_id", "reason")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_id", "request_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else restrict(qs, request.user, "audit.view")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or programs_for(request.user, "audit.view"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
