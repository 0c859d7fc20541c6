"""Decisions as shared, recorded acts: who took part (with their role at the time), who recommended, who
decided, who dissented and why, the inputs and saved calculator results the decision rested on.

Structure (see docs/decisions.md):

- ``DecisionSession``: an ECMO call, MDT meeting or bedside huddle with its attendees, so that a decision made
  there shows who was in the room.
- ``Decision``: one decision on one run. Common fields are columns; the content that differs by kind lives in
  ``content``, a JSON object validated by the kind's form in ``kinds.py`` (one schema per kind). Things that
  are rows with their own time and author are models: checklist items, weaning-trial observations, transport
  legs and in-transit events, ambulation sessions.
- ``DecisionParticipant`` and ``Dissent``: who took part and who disagreed, each with the role they held.
- ``SavedCalculation``: a calculator run (name, arguments, result, core version) kept as evidence.
- ``McsCheck``: a check of a concurrent MCS device (IABP, Impella, VAD) on the run timeline.
- ``PathwayCriteria``: a program's settings for the pathway criteria (weaning, ECPR, ambulation …); rows are
  never edited, a new row supersedes the last one, so the history is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ecmo_core.units import US, UnitPreferences
from ecmo_web.accounts.models import Program
from ecmo_web.runs.models import Component, ConfigurationEntry, EcmoRun, McsDevice, RunTarget
from ecmo_web.versioning import Versioned

USER = settings.AUTH_USER_MODEL


class Kind(models.TextChoices):
    CANDIDACY = "candidacy", "Candidacy"
    MODALITY = "modality", "Configuration"
    FLOW_TARGET = "flow_target", "Flow and gas targets"
    ANTICOAGULATION = "anticoagulation", "Anticoagulation target"
    WEANING_TRIAL = "weaning_trial", "Weaning trial"
    DECANNULATION = "decannulation", "Decannulation"
    TRANSPORT = "transport", "Transport / retrieval"
    AMBULATION = "ambulation", "Ambulation / mobilisation"
    CIRCUIT_CHANGE = "circuit_change", "Circuit change"
    MCS = "mcs", "Concurrent MCS"
    # Form and page in the perfusion app (registered into kinds.KIND_FORMS by its AppConfig).
    CIRCUIT_SELECTION = "circuit_selection", "Circuit and cannula selection"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"
    SUPERSEDED = "superseded", "Superseded"


class DecisionSession(models.Model):
    class SessionKind(models.TextChoices):
        ECMO_CALL = "ecmo_call", "ECMO call"
        MDT = "mdt", "MDT meeting"
        BEDSIDE = "bedside", "Bedside huddle"
        ROUNDS = "rounds", "Rounds"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="decision_sessions")
    kind = models.CharField(max_length=16, choices=SessionKind.choices)
    title = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    location = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class SessionAttendee(models.Model):
    """Someone in the room: a program member (``user``) or a named person without an account."""

    session = models.ForeignKey(DecisionSession, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=60)

    program_path = "session__program"

    class Meta:
        ordering = ["id"]

    def display_name(self) -> str:
        if self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        return self.name


class Decision(Versioned):
    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="decisions")
    session = models.ForeignKey(
        DecisionSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    made_at = models.DateTimeField(help_text="When the decision was discussed")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    # What was known: the clinical inputs the team looked at (free keys, units in the names).
    inputs = models.JSONField(default=dict, blank=True)
    # The kind's structured content, validated by kinds.KIND_FORMS[kind]; derived evaluations are kept in it.
    content = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=list, blank=True)  # [{"label", "note"}]
    recommendation = models.TextField(blank=True)
    recommended_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recommended_by_role = models.CharField(max_length=32, blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by_role = models.CharField(max_length=32, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Checklist kinds (decannulation, transport) and weaning trials are completed or concluded after the
    # decision itself; ``outcome`` says how (completed, passed, failed, abandoned).
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, blank=True)
    outcome_reason = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # Links to what the decision set or concerns on the run.
    targets = models.ManyToManyField(RunTarget, blank=True, related_name="decisions")
    configuration_entry = models.ForeignKey(
        ConfigurationEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    mcs_device = models.ForeignKey(
        McsDevice, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    # Circuit changes link the alerts that led to them (also recorded as surveillance AlertLinks).
    alerts = models.ManyToManyField("surveillance.Alert", blank=True, related_name="linked_decisions")
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "run__program"

    class Meta:
        ordering = ["-made_at", "-id"]
        indexes = [models.Index(fields=["run", "kind", "made_at"], name="decision_run_kind_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open")
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
                name="decided_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN


class DecisionParticipant(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32, help_text="The role the person held when the decision was made")
    contribution = models.CharField(max_length=200, blank=True, help_text="e.g. proposed, took part, decided")

    program_path = "decision__run__program"

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "user"], name="one_participation_per_user")
        ]


class Dissent(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="dissents")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)
    reason = models.TextField()
    resolution = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "decision__run__program"

    class Meta:
        ordering = ["id"]


class SavedCalculation(models.Model):
    """A calculator result kept as evidence. The server recomputes it from ``arguments`` (a posted result is
    never trusted); ``result`` is null with ``not_computed_reason`` when a score could not be computed."""

    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="saved_calculations")
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="calculations"
    )
    calculator = models.CharField(max_length=60)
    arguments = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    not_computed_reason = models.CharField(max_length=300, blank=True)
    core_version = models.CharField(max_length=40)
    reference = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True)
    computed_at = models.DateTimeField()
    computed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    program_path = "run__program"

    class Meta:
        ordering = ["computed_at", "id"]

    def __str__(self) -> str:
        return f"{self.calculator} on {self.run}"

    def summary(self, prefs: UnitPreferences | None = None) -> str:
        """One line for lists: "RESP 4 · class II · 76 % hospital survival" or the main numbers, in ``prefs``' units
        (a program's, for its pages); canonical without (the API)."""
        from ecmo_web.calculators.present import summarise

        return summarise(self.calculator, self.result, self.not_computed_reason, prefs or US)

    def calculator_title(self, prefs: UnitPreferences | None = None) -> str:
        """The calculator's clinical title ("VV oxygenation: blood flow for a target SaO2"), never its code name."""
        from ecmo_web.calculators.present import title

        return title(self.calculator, prefs or US)

    def input_rows(self, prefs: UnitPreferences | None = None) -> list[tuple[str, str]]:
        """The inputs it was computed from, as (clinical name, value with its unit) in ``prefs``' units."""
        from ecmo_web.calculators.present import input_rows

        return input_rows(self.arguments, prefs or US, self.calculator)


class ChecklistItem(models.Model):
    class ItemStatus(models.TextChoices):
        PENDING = "pending", "To do"
        DONE = "done", "Done"
        WAIVED = "waived", "Waived"

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="checklist_items")
    key = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    group = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=8, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    waiver_reason = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="e.g. UFH off 09:30, ACT 142 at 10:25")
    done_at = models.DateTimeField(null=True, blank=True, help_text="When it was done (clinical time)")
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by_role = models.CharField(max_length=32, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)

    program_path = "decision__run__program"

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["decision", "key"], name="checklist_key_unique")]


class TrialObservation(models.Model):
    """One timed observation in a weaning trial; ``values`` uses the codes of ecmo_core.pathways."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="observations")
    at = models.DateTimeField()
    minutes = models.FloatField(help_text="Minutes from the start of the trial")
    step = models.CharField(max_length=120, blank=True)
    values = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "decision__run__program"

    class Meta:
        ordering = ["at", "id"]


class TransportLeg(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveSmallIntegerField()
    route = models.CharField(max_length=200)
    planned_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    uses_cylinder_oxygen = models.BooleanField(default=True)
    on_battery = models.BooleanField(default=True)
    oxygen_source = models.CharField(max_length=120, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    program_path = "decision__run__program"

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["decision", "position"], name="leg_position_unique")]


class TransportEvent(models.Model):
    class Category(models.TextChoices):
        CIRCUIT = "circuit", "Circuit"
        PATIENT = "patient", "Patient"
        VEHICLE = "vehicle", "Vehicle"
        OTHER = "other", "Other"

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="transport_events")
    at = models.DateTimeField()
    category = models.CharField(max_length=10, choices=Category.choices)
    description = models.CharField(max_length=300)
    action_taken = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    program_path = "decision__run__program"

    class Meta:
        ordering = ["at", "id"]


class AmbulationSession(models.Model):
    """One mobilisation session: the IMS level reached, cannula checks before and after, and what happened."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="ambulation_sessions")
    started_at = models.DateTimeField()
    duration_min = models.PositiveIntegerField(validators=[MaxValueValidator(600)])
    ims_level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)], help_text="ICU Mobility Scale 0–10"
    )
    activities = models.CharField(max_length=300, blank=True)
    distance_m = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(5000)])
    team_size = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(20)])
    lowest_spo2 = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    pre_check = models.CharField(max_length=300, help_text="Cannula position, securement, flow before")
    post_check = models.CharField(max_length=300, help_text="Cannula position, dressing, flow after")
    events = models.TextField(blank=True)
    stopped_early = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "decision__run__program"

    class Meta:
        ordering = ["started_at"]


class McsCheck(models.Model):
    """A check of a concurrent MCS device; ``readings`` holds kind-specific values (see kinds.MCS_READINGS)."""

    device = models.ForeignKey(McsDevice, on_delete=models.PROTECT, related_name="checks")
    at = models.DateTimeField()
    position_confirmed = models.BooleanField(null=True, blank=True)
    position_note = models.CharField(max_length=200, blank=True)
    limb_perfusion_ok = models.BooleanField(null=True, blank=True)
    readings = models.JSONField(default=dict, blank=True)
    alarms = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=300, blank=True)
    checked_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    checked_by_role = models.CharField(max_length=32, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    program_path = "device__run__program"

    class Meta:
        ordering = ["at", "id"]


class PathwayCriteria(models.Model):
    """A program's settings for one criteria set (``overrides`` as accepted by pathways.with_overrides)."""

    class CriteriaSetName(models.TextChoices):
        VV_SWEEP_OFF = "vv_sweep_off", "VV sweep-gas-off trial"
        VA_FLOW_REDUCTION = "va_flow_reduction", "VA flow-reduction trial"
        VV_ENTRY = "vv_entry", "VV entry criteria (EOLIA)"
        ECPR = "ecpr", "ECPR selection"
        AMBULATION = "ambulation", "Ambulation readiness"
        LV_DISTENSION = "lv_distension", "LV distension"
        DIFFERENTIAL_HYPOXIA = "differential_hypoxia", "Differential hypoxia"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="pathway_criteria")
    criteria_set = models.CharField(max_length=24, choices=CriteriaSetName.choices)
    overrides = models.JSONField(default=dict)
    effective_from = models.DateTimeField()
    reason = models.CharField(max_length=300)
    set_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        ordering = ["-effective_from", "-id"]
