"""Admin screens: the device catalogue is maintained here. Clinical records are read-only in the admin so that
every clinical write goes through an action with its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ecmo_web.accounts.admin import AuditedAdmin
from ecmo_web.runs.models import CatalogueItem, EcmoRun


@admin.register(CatalogueItem)
class CatalogueItemAdmin(AuditedAdmin):
    list_display = ("kind", "maker", "model", "rated_flow_l_min", "active")
    list_filter = ("kind", "active")
    search_fields = ("maker", "model")


@admin.register(EcmoRun)
class EcmoRunAdmin(admin.ModelAdmin):
    list_display = ("patient", "program", "indication", "started_at", "ended_at", "outcome")
    list_filter = ("program", "outcome")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
