from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ecmo_web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only."""

    list_display = ("at", "actor_name", "action", "object_type", "object_id", "reason")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_id", "request_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
