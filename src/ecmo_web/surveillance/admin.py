"""Admin screens for the HL7 integration (console/bed associations, the dead-letter queue) and for the worker
(notification channels, their delivery log, parked work).

Associations are kept by whoever may change a run's circuit (``circuit.edit``) in that program. Dead letters that
could be tied to a program are reviewed by its circuit staff; letters no run could be bound to belong to no
program yet and are the integration team's (superusers). Both follow the program permission matrix through
``ProgramScopedAdmin``, and every write is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest

from ecmo_web.accounts.admin import ProgramScopedAdmin
from ecmo_web.accounts.models import Role
from ecmo_web.kernel import user_of
from ecmo_web.permissions import restrict
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import DeadLetter, DeviceAssociation
from ecmo_web.surveillance.notify import webhook_secret
from ecmo_web.surveillance.worker_models import Delivery, NotificationChannel, WorkFailure


class DeviceAssociationForm(forms.ModelForm):
    class Meta:
        model = DeviceAssociation
        fields = ("program", "run", "console_serial", "bed", "started_at", "ended_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        run, program = data.get("run"), data.get("program")
        if run is not None and program is not None and run.program_id != program.pk:
            self.add_error("run", "this run belongs to another program")
        return data


@admin.register(DeviceAssociation)
class DeviceAssociationAdmin(ProgramScopedAdmin):
    permission_action = "circuit.edit"
    form = DeviceAssociationForm
    list_display = ("run", "console_serial", "bed", "started_at", "ended_at")
    search_fields = ("console_serial", "bed")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "run" and not request.user.is_superuser:
            kwargs["queryset"] = restrict(
                EcmoRun.objects.filter(ended_at__isnull=True), request.user, self.permission_action
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(DeadLetter)
class DeadLetterAdmin(ProgramScopedAdmin):
    permission_action = "circuit.edit"
    list_display = (
        "received_at",
        "sending_application",
        "control_id",
        "error_code",
        "identity_conflict",
        "reason",
        "reviewed_at",
    )
    list_filter = ("identity_conflict", "error_code")
    search_fields = ("control_id", "sending_application", "reason")
    readonly_fields = (
        "program",
        "raw_message",
        "reason",
        "error_code",
        "error_location",
        "sending_application",
        "control_id",
        "peer",
        "received_at",
        "identity_conflict",
        "reprocessed_at",
        "reviewed_by",
        "reviewed_at",
    )
    fields = (*readonly_fields, "review_note")

    actions = ("reprocess",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # dead letters come only from the listener

    @admin.action(description="Re-process the selected messages (after associating their console or bed)")
    def reprocess(self, request: HttpRequest, queryset: Any) -> None:
        from django.contrib import messages
        from django.core.exceptions import ValidationError

        from ecmo_web.surveillance.hl7_ingest import reprocess_dead_letter

        for letter in queryset:
            try:
                stored = reprocess_dead_letter(actor=request.user, letter=letter)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(
                    request, f"{letter.control_id}: {' '.join(getattr(exc, 'messages', [str(exc)]))}"
                )
            else:
                messages.success(request, f"{letter.control_id}: {stored} values stored")

    def save_model(self, request: HttpRequest, obj: DeadLetter, form: Any, change: bool) -> None:
        from django.utils import timezone

        obj.reviewed_by, obj.reviewed_at = user_of(request.user), timezone.now()
        super().save_model(request, obj, form, change)


# --- notification channels, their deliveries, and the worker's parked work ---------------------------------------


class NotificationChannelForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="an alert escalated to one of these roles is sent to this channel",
    )

    class Meta:
        model = NotificationChannel
        fields = ("program", "name", "kind", "target", "roles", "firing", "active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        program = data.get("program")
        if data.get("kind") == NotificationChannel.Kind.WEBHOOK and program is not None:
            if not webhook_secret(program.pk):
                self.add_error(
                    "kind",
                    f"no signing secret for this program: the site sets ECMO_WEBHOOK_SECRET_{program.pk} first",
                )
        return data


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ProgramScopedAdmin):
    """Kept by the program's director and administrator (``program.manage``); every change is audited."""

    form = NotificationChannelForm
    list_display = ("name", "program", "kind", "target", "role_names", "firing", "active")
    list_filter = ("kind", "active")

    @admin.display(description="roles")
    def role_names(self, obj: NotificationChannel) -> str:
        return ", ".join(Role(r).label for r in obj.roles or [] if r in Role.values) or "—"


class _ReadOnlyLog(ProgramScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnlyLog):
    """Every notification sent or tried: channel, attempts, outcome and the gateway's answer."""

    list_display = ("created_at", "channel", "event", "role", "alert", "attempts", "outcome", "next_try_at")
    list_filter = ("outcome", "event")
    readonly_fields = (
        "channel",
        "alert",
        "transition",
        "event",
        "role",
        "payload",
        "attempts",
        "outcome",
        "response",
        "history",
        "next_try_at",
        "sent_at",
        "created_at",
    )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # the log of who was paged, when, stays


@admin.register(WorkFailure)
class WorkFailureAdmin(_ReadOnlyLog):
    """Work the surveillance worker could not do; deleting a row releases it for the next pass."""

    list_display = ("kind", "object_id", "program", "failures", "last_failed_at", "parked_at", "last_error")
    list_filter = ("kind",)
    readonly_fields = (
        "kind",
        "object_id",
        "program",
        "failures",
        "first_failed_at",
        "last_failed_at",
        "last_error",
        "next_try_at",
        "parked_at",
    )
