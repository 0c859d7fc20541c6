"""Admin screens, governed by the same permission matrix as the rest of the app.

Django's global model permissions do not know about programs, so every admin here asks ``permissions`` instead:
a program admin or director manages the memberships of *their* programs only; whoever holds
``catalogue.manage`` in any program maintains the (global) device catalogue; superusers keep full access.
Every admin write appends an audit event in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from ecmo_web.accounts.models import Membership, Program, Unit
from ecmo_web.audit.chain import append, snapshot
from ecmo_web.permissions import can, programs_for, restrict


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

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """The list page's bulk delete: one audit event per row, in the transaction that deletes them."""
        with transaction.atomic():
            for obj in queryset:
                append(
                    actor=request.user,
                    action=f"{obj._meta.model_name}.deleted",
                    obj=obj,
                    before=snapshot(obj),
                    reason="deleted with others from the list page",
                )
            super().delete_queryset(request, queryset)


class ProgramScopedAdmin(AuditedAdmin):
    """Rows of programs where the user holds ``permission_action``; superusers see all."""

    permission_action = "program.manage"

    def _allowed(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is not None:
            return can(request.user, self.permission_action, obj)
        return bool(programs_for(request.user, self.permission_action))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else restrict(qs, request.user, self.permission_action)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A program admin can only attach rows to programs they manage.
        if db_field.name == "program" and not request.user.is_superuser:
            kwargs["queryset"] = Program.objects.filter(
                pk__in=programs_for(request.user, self.permission_action)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not self._allowed(request, obj):  # e.g. a program field tampered with in the POST
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        super().save_model(request, obj, form, change)


@admin.register(Program)
class ProgramAdmin(ProgramScopedAdmin):
    list_display = ("name", "time_zone", "is_demo")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)  # new programs are an installation-level act

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Unit)
class UnitAdmin(ProgramScopedAdmin):
    list_display = ("name", "program")


@admin.register(Membership)
class MembershipAdmin(ProgramScopedAdmin):
    list_display = ("user", "program", "role", "active")
    list_filter = ("role", "active")
