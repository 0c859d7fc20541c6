from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from ecmo_web.accounts.models import Membership, Program, Unit
from ecmo_web.audit.chain import append, snapshot


class AuditedAdmin(admin.ModelAdmin):
    """Admin writes append an audit event in the same transaction, like every other write."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            append(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'changed' if change else 'added'}",
                obj=obj,
                before=before,
                after=snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            append(
                actor=request.user, action=f"{obj._meta.model_name}.deleted", obj=obj, before=snapshot(obj)
            )
            super().delete_model(request, obj)


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = ("name", "time_zone", "is_demo")


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("name", "program")


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "program", "role", "active")
    list_filter = ("program", "role", "active")
