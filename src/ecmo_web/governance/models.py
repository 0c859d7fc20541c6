"""Governance: QI projects (measures, data points, PDSA cycles), the policy library (versions, sign-offs, the link
from a decision to the policy it followed), and education (sessions, attendance, competencies, shifts).

Every model names the ORM path to its program in ``program_path`` so that ``can()``/``restrict()`` work on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecmo_web.accounts.models import Program
from ecmo_web.versioning import Versioned

USER = settings.AUTH_USER_MODEL


# ---------------------------------------------------------------------------------------------------------- QI
class QiProject(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="qi_projects")
    title = models.CharField(max_length=200)
    # The aim statement: what will improve, by how much, by when, for whom.
    aim = models.TextField()
    lead = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        ordering = ["-started_on", "title"]

    def __str__(self) -> str:
        return self.title


class MeasureKind(models.TextChoices):
    OUTCOME = "outcome", "Outcome measure"
    PROCESS = "process", "Process measure"
    BALANCING = "balancing", "Balancing measure"


class QiMeasure(models.Model):
    """A measure of a project. ``kpi_key`` links it to a program KPI; with ``computed`` its points are the KPI
    computed week by week from the program's records, otherwise they are entered by hand (a history from before
    the program recorded here, or a measure no KPI covers)."""

    project = models.ForeignKey(QiProject, on_delete=models.CASCADE, related_name="measures")
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=12, choices=MeasureKind.choices, default=MeasureKind.OUTCOME)
    kpi_key = models.CharField(max_length=80, blank=True)
    # Compute the points from the program's records (the linked KPI, week by week) instead of entering them.
    computed = models.BooleanField(default=False)
    unit = models.CharField(max_length=40, blank=True)
    higher_is_better = models.BooleanField(default=True)
    # Freeze the median on the first N points (the baseline); empty: the median of every point.
    baseline_points = models.PositiveSmallIntegerField(null=True, blank=True)

    program_path = "project__program"

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="qi_measure_name_unique")]

    def __str__(self) -> str:
        return self.name


class MeasurePoint(models.Model):
    """One data point of a measure: the value for the period starting ``period_start``."""

    measure = models.ForeignKey(QiMeasure, on_delete=models.CASCADE, related_name="points")
    period_start = models.DateField()
    value = models.FloatField()
    note = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "measure__project__program"

    class Meta:
        ordering = ["period_start"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period_start"], name="qi_point_one_per_period")
        ]


class PdsaAct(models.TextChoices):
    ADOPT = "adopt", "Adopt"
    ADAPT = "adapt", "Adapt"
    ABANDON = "abandon", "Abandon"


class PdsaCycle(Versioned):
    """Plan–Do–Study–Act: the change tested, the prediction, what happened, and what was decided."""

    project = models.ForeignKey(QiProject, on_delete=models.CASCADE, related_name="cycles")
    number = models.PositiveSmallIntegerField()
    change = models.CharField(max_length=200)
    plan = models.TextField()
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    study = models.TextField(blank=True)  # the results, compared with the prediction
    act = models.CharField(max_length=8, choices=PdsaAct.choices, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "project__program"

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="pdsa_number_unique")]

    def __str__(self) -> str:
        return f"PDSA {self.number}: {self.change}"


# ---------------------------------------------------------------------------------------------------- policies
class PolicyTopic(models.TextChoices):
    ANTICOAGULATION = "anticoagulation", "Anticoagulation"
    CIRCUIT_CHANGE = "circuit_change", "Circuit change"
    TRANSPORT = "transport", "Transport and retrieval"
    AMBULATION = "ambulation", "Ambulation"
    EMERGENCY = "emergency", "Emergencies"
    OTHER = "other", "Other"


class Policy(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="policies")
    title = models.CharField(max_length=200)
    topic = models.CharField(max_length=20, choices=PolicyTopic.choices)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        ordering = ["topic", "title"]
        constraints = [models.UniqueConstraint(fields=["program", "title"], name="policy_title_unique")]

    def __str__(self) -> str:
        return self.title


class PolicyVersion(models.Model):
    """One version of a policy. It is in force from ``effective_on`` once every role in ``required_roles`` has
    signed it off (``ecmo_core.policy``); ``fully_signed_at`` is set by the sign-off that completes it."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    summary = models.CharField(max_length=300)
    text = models.TextField()
    # settings.AUTH_USER_MODEL spelled out (not USER): the mypy Django plugin resolves it to the user model
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    effective_on = models.DateField()
    review_on = models.DateField()
    required_roles = models.JSONField(default=list)  # role values, e.g. ["perfusionist", "intensivist"]
    fully_signed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "policy__program"

    class Meta:
        ordering = ["policy_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.policy.title} v{self.number}"


class PolicySignoff(models.Model):
    """A sign-off for one required role: given by a member holding that role."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="signoffs")
    role = models.CharField(max_length=32)
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    comment = models.CharField(max_length=300, blank=True)

    program_path = "version__policy__program"

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "role"], name="policy_signoff_one_per_role")
        ]


class ReviewReminder(models.Model):
    """The worker reminded the program that a version in force is due (or overdue) for review: once per kind."""

    class Kind(models.TextChoices):
        DUE = "due", "Due for review"
        OVERDUE = "overdue", "Overdue for review"

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    program_path = "version__policy__program"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="review_reminder_once_per_kind")
        ]


class DecisionPolicyLink(models.Model):
    """A decision followed this policy version (kept here so the decisions app needs no new column)."""

    decision = models.ForeignKey("decisions.Decision", on_delete=models.CASCADE, related_name="policy_links")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="decision_links")
    note = models.CharField(max_length=300, blank=True)
    linked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    program_path = "decision__run__program"

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "version"], name="decision_policy_link_unique")
        ]


# --------------------------------------------------------------------------------------------------- education
class Competency(models.Model):
    """A skill the program assesses, with how long an award lasts and the roles whose skill set includes it."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="competencies")
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    validity_months = models.PositiveSmallIntegerField(null=True, blank=True)  # empty: never expires
    required_for_roles = models.JSONField(default=list)  # role values: the skill sets it belongs to

    program_path = "program"

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="competency_name_unique")]

    def __str__(self) -> str:
        return self.name


class CompetencyAward(models.Model):
    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="awards")
    holder = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    awarded_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    assessed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "EducationSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="awards"
    )
    note = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "competency__program"

    class Meta:
        ordering = ["-awarded_on"]


class SessionKind(models.TextChoices):
    SIMULATION = "simulation", "Simulation"
    WATER_DRILL = "water_drill", "Water drill"
    EMERGENCY_DRILL = "emergency_drill", "Emergency drill"
    TEACHING = "teaching", "Teaching session"


class EducationSession(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="education_sessions")
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    title = models.CharField(max_length=200)
    held_at = models.DateTimeField()
    duration_min = models.PositiveSmallIntegerField()
    facilitator = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    program_path = "program"

    class Meta:
        ordering = ["-held_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class SessionAttendance(models.Model):
    session = models.ForeignKey(EducationSession, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)

    program_path = "session__program"

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="education_attendance_unique")
        ]


class Shift(models.Model):
    """A rostered shift: a time span and the members on it."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="shifts")
    name = models.CharField(max_length=80)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # settings.AUTH_USER_MODEL spelled out (not USER): the mypy Django plugin resolves it to the user model
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    program_path = "program"

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.name
