"""Quality: adverse events (ELSO/ECLS CDM coded), M&M cases with their contributions, contributing factors and
actions, and clinical audits (a criterion, a standard, a sample; each run kept so compliance shows over time).

KPIs are not stored: they are computed on request by ``ecmo_core.quality`` from plain records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecmo_web.accounts.models import Program
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.surveillance.models import Alert
from ecmo_web.versioning import Versioned

USER = settings.AUTH_USER_MODEL


class EventSeverity(models.TextChoices):
    """Harm to the patient (local scale, documented in docs/quality/adverse-events.md)."""

    MILD = "mild", "Mild: no intervention needed"
    MODERATE = "moderate", "Moderate: intervention, no lasting harm"
    SEVERE = "severe", "Severe: emergency intervention or lasting harm"
    LIFE_THREATENING = "life_threatening", "Life-threatening"
    FATAL = "fatal", "Fatal"


class AdverseEvent(models.Model):
    """A complication on a run, coded with the ELSO Registry complication list (``category``, ``code``; the code
    list is ``quality/complications.toml``, which also names each code's ECLS CDM concept). ``lot`` is copied from
    the component when one is linked, so a recall search by lot finds the event even if the component is edited.
    ``alert`` is the alert that preceded it, when there was one."""

    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="adverse_events")
    category = models.CharField(max_length=20)
    code = models.CharField(max_length=60)
    severity = models.CharField(max_length=20, choices=EventSeverity.choices)
    onset_at = models.DateTimeField()
    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.SET_NULL, related_name="adverse_events"
    )
    lot = models.CharField(max_length=60, blank=True)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="adverse_events"
    )
    action_taken = models.TextField(blank=True)
    description = models.TextField(blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    program_path = "run__program"

    class Meta:
        ordering = ["-onset_at", "-id"]
        indexes = [
            models.Index(fields=["lot"], name="adverse_event_lot_idx"),
            models.Index(fields=["run", "onset_at"], name="adverse_event_run_onset_idx"),
        ]

    def __str__(self) -> str:
        from ecmo_web.quality.codes import code_list

        found = code_list().get(self.code)
        return found.label if found else self.code

    @property
    def code_label(self) -> str:
        return str(self)

    @property
    def severity_short(self) -> str:
        """ "Severe" rather than the full scale text, for lists and badges."""
        return str(self.get_severity_display()).split(":")[0]

    @property
    def category_label(self) -> str:
        from ecmo_web.quality.codes import code_list

        found = code_list().category(self.category)
        return found.label if found else self.category


class MmCase(Versioned):
    """A morbidity and mortality case: a run and (usually) one adverse event, discussed by the committee."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="mm_cases")
    event = models.ForeignKey(
        AdverseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="mm_cases"
    )
    title = models.CharField(max_length=200)
    meeting_on = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True)
    discussion = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    program_path = "run__program"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class MmContribution(models.Model):
    """What one discipline brings to the case (perfusion, medical, nursing …), by its author in their role. A case
    "has perfusion input" when it has a perfusion contribution (perfusion involvement index)."""

    case = models.ForeignKey(MmCase, on_delete=models.CASCADE, related_name="contributions")
    discipline = models.CharField(max_length=16)
    text = models.TextField()
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    author_role = models.CharField(max_length=32)
    written_at = models.DateTimeField()

    program_path = "case__run__program"

    class Meta:
        ordering = ["written_at", "id"]


class FactorKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    EQUIPMENT = "equipment", "Equipment and device"
    TEAM = "team", "Team and communication"
    PROCESS = "process", "Process and protocol"
    ENVIRONMENT = "environment", "Environment and staffing"


class ContributingFactor(models.Model):
    case = models.ForeignKey(MmCase, on_delete=models.CASCADE, related_name="factors")
    kind = models.CharField(max_length=16, choices=FactorKind.choices)
    text = models.CharField(max_length=500)

    program_path = "case__run__program"

    class Meta:
        ordering = ["id"]


class MmAction(models.Model):
    """An action agreed at M&M, with an owner and a due date, tracked until closed."""

    case = models.ForeignKey(MmCase, on_delete=models.CASCADE, related_name="actions")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closing_note = models.CharField(max_length=500, blank=True)

    program_path = "case__run__program"

    class Meta:
        ordering = ["closed_at", "due_on", "id"]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ClinicalAudit(models.Model):
    """An audit definition: which criterion (from ``ecmo_core.quality.AUDIT_CRITERIA``), the standard (the share
    of the sample that should comply, 0–1) and the sample (every eligible case in the period, or at most N)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="clinical_audits")
    title = models.CharField(max_length=200)
    criterion = models.CharField(max_length=60)
    standard_fraction = models.FloatField(help_text="Share of the sample expected to comply, 0–1")
    sample_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many (most recent) cases; empty for every case"
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    program_path = "program"

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class AuditRound(models.Model):
    """One run of an audit over a period: the sample, how many complied, and the cases that did not."""

    audit = models.ForeignKey(ClinicalAudit, on_delete=models.CASCADE, related_name="rounds")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    sample_count = models.PositiveIntegerField()
    compliant_count = models.PositiveIntegerField()
    details = models.JSONField(default=list, blank=True)
    run_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    run_at = models.DateTimeField()

    program_path = "audit__program"

    class Meta:
        ordering = ["period_end", "id"]

    @property
    def compliance_fraction(self) -> float | None:
        return self.compliant_count / self.sample_count if self.sample_count else None
