"""Perfusion: the program's perfusion settings, primed circuits on standby and their notices.

The device catalogue itself is ``runs.CatalogueItem`` (global, shared by every app); circuit and cannula
selection is a decision (``decisions.Decision`` of kind ``circuit_selection``), whose form lives here.

- ``PerfusionSettings``: the program's selection margins and limits, blood-volume bands, priming and standby
  policy. Rows are never edited: a new row supersedes the last one, so the history is kept.
- ``StandbyCircuit``: a circuit primed ahead of need, with what it holds (prime, heparin), its checklist, when
  it was primed and when it expires by the program's policy, and how it ended (used on a run, discarded,
  expired).
- ``StandbyNotice``: a notice that a standby circuit is about to expire or has expired, shown on the standby
  page until someone acknowledges it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ecmo_web.accounts.models import Program
from ecmo_web.runs.models import CatalogueItem, EcmoRun

USER = settings.AUTH_USER_MODEL


class PerfusionSettings(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="perfusion_settings")
    values = models.JSONField(default=dict)
    reason = models.CharField(max_length=300)
    set_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    program_path = "program"

    class Meta:
        ordering = ["-set_at", "-id"]


class PrimeType(models.TextChoices):
    CRYSTALLOID = "crystalloid", "Crystalloid"
    ALBUMIN = "albumin", "Crystalloid with albumin"
    BLOOD = "blood", "Blood prime"


class StandbyStatus(models.TextChoices):
    STANDBY = "standby", "On standby"
    USED = "used", "Used on a patient"
    DISCARDED = "discarded", "Discarded"
    EXPIRED = "expired", "Expired"


class StandbyCircuit(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="standby_circuits")
    label = models.CharField(max_length=60, help_text="e.g. Adult standby circuit A")
    location = models.CharField(max_length=80, blank=True)
    oxygenator = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="+")
    pump = models.ForeignKey(CatalogueItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tubing_pack = models.ForeignKey(
        CatalogueItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.CharField(max_length=60, blank=True, help_text="Oxygenator lot")
    prime_type = models.CharField(max_length=12, choices=PrimeType.choices)
    prime_volume_ml = models.PositiveIntegerField(validators=[MinValueValidator(50), MaxValueValidator(5000)])
    heparin_iu = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(20000)])
    primed_at = models.DateTimeField()
    primed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(help_text="Primed time + the program's standby policy")
    checklist = models.JSONField(default=list, blank=True, help_text="Keys of the checklist items confirmed")
    status = models.CharField(max_length=10, choices=StandbyStatus.choices, default=StandbyStatus.STANDBY)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    close_reason = models.CharField(max_length=300, blank=True)
    used_on_run = models.ForeignKey(
        EcmoRun, null=True, blank=True, on_delete=models.PROTECT, related_name="standby_circuits_used"
    )
    notes = models.CharField(max_length=300, blank=True)

    program_path = "program"
    # Not stored: set on the circuits in standby by the standby page (perfusion.views.home) for its template.
    flag: str  # "expired", "expiring" or ""
    checklist_missing: list[str]  # labels of the priming checklist items not done

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="standby_status_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("primed_at")), name="standby_expires_after_priming"
            )
        ]

    def __str__(self) -> str:
        return self.label


class StandbyNotice(models.Model):
    class Kind(models.TextChoices):
        EXPIRING = "expiring", "Expiring soon"
        EXPIRED = "expired", "Expired"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="standby_notices")
    circuit = models.ForeignKey(StandbyCircuit, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    program_path = "program"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["circuit", "kind"], name="one_notice_per_kind")]
