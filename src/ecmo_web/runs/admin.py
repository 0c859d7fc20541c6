"""Admin screens: the device catalogue is maintained here, by anyone holding ``catalogue.manage`` in a program.
Clinical records are not edited in the admin: every clinical write goes through an action with its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from ecmo_web.accounts.admin import AuditedAdmin
from ecmo_web.permissions import programs_for
from ecmo_web.runs.models import CatalogueItem


@admin.register(CatalogueItem)
class CatalogueItemAdmin(AuditedAdmin):
    list_display = (
        "kind",
        "maker",
        "model",
        "rated_flow_l_min",
        "priming_volume_ml",
        "cannula_purpose",
        "size_fr",
        "source",
        "active",
    )
    list_filter = ("kind", "cannula_purpose", "active")
    search_fields = ("maker", "model")

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or programs_for(request.user, "catalogue.manage"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Items in use are protected by the database (PROTECT); retire them with "active" instead.
        return self._allowed(request)
