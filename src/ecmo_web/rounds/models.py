"""Multidisciplinary rounds: a session per program per day with who attended (in what role), an entry per run with a
section per discipline (the perfusion section generated from the circuit's last 24 h and written by the
perfusionist), and goals that carry over from one session to the next until they are ticked off."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ecmo_web.accounts.models import Program
from ecmo_web.runs.models import EcmoRun
from ecmo_web.versioning import Versioned

USER = settings.AUTH_USER_MODEL


class Discipline(models.TextChoices):
    PERFUSION = "perfusion", "Perfusion"
    MEDICAL = "medical", "Medical (intensive care)"
    NURSING = "nursing", "Nursing"
    SURGERY = "surgery", "Surgery"
    CARDIOLOGY = "cardiology", "Cardiology"
    PHARMACY = "pharmacy", "Pharmacy"
    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    DIETETICS = "dietetics", "Dietetics"


class RoundsSession(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="rounds_sessions")
    date = models.DateField(help_text="The day of rounds in the program's time zone")
    started_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["program", "date"], name="one_rounds_per_program_day")]

    def __str__(self) -> str:
        return f"Rounds {self.date:%Y-%m-%d}"


class Attendance(models.Model):
    """Someone at rounds: a member (their role at the time) or a named person without an account (e.g. a dietitian).
    ``capacity`` marks the chair or an observer."""

    session = models.ForeignKey(RoundsSession, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=60)
    capacity = models.CharField(
        max_length=20, blank=True, choices=[("", "attending"), ("chair", "chair"), ("observer", "observer")]
    )
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "session__program"

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"], condition=Q(user__isnull=False), name="attend_once_per_session"
            )
        ]

    def display_name(self) -> str:
        if self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        return self.name


class RoundsEntry(models.Model):
    """A run at a session. ``perfusion_summary`` is the circuit summary of the last 24 h as it stood when generated
    (kept, so a past session shows what the team saw)."""

    session = models.ForeignKey(RoundsSession, on_delete=models.CASCADE, related_name="entries")
    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="rounds_entries")
    position = models.PositiveSmallIntegerField(default=0)
    perfusion_summary = models.JSONField(null=True, blank=True)
    summary_generated_at = models.DateTimeField(null=True, blank=True)

    program_path = "session__program"

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "run"], name="one_entry_per_run")]


class RoundsSection(Versioned):
    """One discipline's part of an entry. Edits keep the earlier text in ``history`` (never overwritten silently)."""

    entry = models.ForeignKey(RoundsEntry, on_delete=models.CASCADE, related_name="sections")
    discipline = models.CharField(max_length=16, choices=Discipline.choices)
    text = models.TextField()
    author = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=32)
    updated_at = models.DateTimeField()
    history = models.JSONField(default=list, blank=True)

    program_path = "entry__session__program"

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "discipline"], name="one_section_per_discipline")
        ]


class Goal(models.Model):
    """A goal for a run, set at a session; shown at every later session until ticked off."""

    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="rounds_goals")
    text = models.CharField(max_length=300)
    discipline = models.CharField(max_length=16, choices=Discipline.choices, blank=True)
    set_in = models.ForeignKey(RoundsSession, on_delete=models.PROTECT, related_name="goals_set")
    set_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()
    done_in = models.ForeignKey(
        RoundsSession, null=True, blank=True, on_delete=models.PROTECT, related_name="goals_done"
    )
    done_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.CharField(max_length=300, blank=True)

    program_path = "run__program"

    class Meta:
        ordering = ["set_at", "id"]
