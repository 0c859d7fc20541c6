"""Admin screens for the HL7 integration: console/bed associations and the dead-letter queue.

Associations are kept by whoever may change a run's circuit (``circuit.edit``) in that program. Dead letters that
could be tied to a program are reviewed by its circuit staff; letters no run could be bound to belong to no
program yet and are the integration team's (superusers). Both follow the program permission matrix through
``ProgramScopedAdmin``, and every write is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from ecmo_web.accounts.admin import ProgramScopedAdmin
from ecmo_web.permissions import restrict
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import DeadLetter, DeviceAssociation


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
    list_display = ("received_at", "sending_application", "control_id", "error_code", "reason", "reviewed_at")
    list_filter = ("error_code",)
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
        "reviewed_by",
        "reviewed_at",
    )
    fields = (*readonly_fields, "review_note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # dead letters come only from the listener

    def save_model(self, request: HttpRequest, obj: DeadLetter, form: Any, change: bool) -> None:
        from django.utils import timezone

        obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)
