"""Circuit surveillance: telemetry samples, hourly circuit checks, alerts as state transitions, site settings.

- ``Sample`` holds every value, whatever its way in (console over HL7, CSV, API, an hourly check, a lab). It is
  unique on (run, parameter, observed_at, source), so a replayed message or file adds nothing.
- ``CircuitCheck`` is one hourly check; an amendment is a new version row pointing at the original, which stays
  readable. Its values are also written as samples with source ``"check"`` so that the rules see them.
- ``RuleState`` is the current state of each rule on a run; ``AlertTransition`` stores every change of that
  state (healthchecks' ``Flip``) and is never rewritten; ``Alert`` is one episode from the moment a rule fires
  until a person resolves it, with acknowledgement and escalation.
- ``SurveillanceSetting`` keeps the program's rule settings (validated by ``ecmo_core``) with their history.
- ``DeviceAssociation`` and ``DeadLetter`` serve the HL7 listener (console/bed → run; messages not taken);
  ``InboundMessage`` logs every message received, ``EvaluationRequest`` queues runs with new telemetry for the
  evaluator (docs/hl7-mllp.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ecmo_web.accounts.models import Program, Role
from ecmo_web.runs.models import Component, EcmoRun

DEVICE = "device"
CHECK = "check"
LAB = "lab"

# Sources that are console or monitor telemetry. ``ecmo_core`` calls only "device" a device; the web layer keeps
# the finer name (the console, or "hl7:<device id>") in storage and maps it to "device" for the rules.
DEVICE_SOURCES = frozenset({DEVICE, "console"})
DEVICE_SOURCE_PREFIXES = ("hl7:", "device:", "console:")


def is_device_source(source: str) -> bool:
    return source in DEVICE_SOURCES or source.startswith(DEVICE_SOURCE_PREFIXES)


def core_source(source: str) -> str:
    """The source name the ``ecmo_core`` rules understand: "device" for any telemetry, else as stored."""
    return DEVICE if is_device_source(source) else source


class IngestBatch(models.Model):
    """One way-in event: an API batch, a CSV file, an HL7 message, a check, a lab entry or the demo seed.

    ``ref`` identifies the batch at its source (HL7 ``sending_application|control_id``, the SHA-256 of a CSV
    file, an API client's batch id); a second batch with the same (run, kind, ref) is the same batch.
    """

    class Kind(models.TextChoices):
        API = "api", "API"
        CSV = "csv", "CSV import"
        HL7 = "hl7", "HL7 message"
        CHECK = "check", "Hourly check"
        LAB = "lab", "Lab entry"
        MANUAL = "manual", "Manual entry"
        DEMO = "demo", "Demo seed"

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="ingest_batches")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ref = models.CharField(max_length=200, blank=True)
    actor_name = models.CharField(max_length=150)
    received_at = models.DateTimeField()
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    # An HL7 message whose patient identifier is unknown here, bound by its console or bed: the run page warns.
    identity_unverified = models.BooleanField(default=False)

    program_path = "run__program"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "ref"], condition=~Q(ref=""), name="ingest_batch_ref_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ref or self.pk}"


class Sample(models.Model):
    """One observation of one parameter (a core-api §4 code) on a run."""

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="samples")
    parameter = models.CharField(max_length=60)
    observed_at = models.DateTimeField()
    value = models.FloatField()
    source = models.CharField(max_length=64, default=DEVICE)
    received_at = models.DateTimeField()
    batch = models.ForeignKey(
        IngestBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    # Set for samples written from an hourly check: an amendment replaces them with the new version's values.
    check_record = models.ForeignKey(
        "CircuitCheck", null=True, blank=True, on_delete=models.CASCADE, related_name="samples"
    )

    program_path = "run__program"

    class Meta:
        constraints = [
            # Idempotency (core-api §6). Its index, led by (run, parameter, observed_at), also serves every
            # "series of one parameter in a time range" and "latest value" query.
            models.UniqueConstraint(
                fields=["run", "parameter", "observed_at", "source"], name="sample_unique"
            ),
        ]
        indexes = [
            # Loading a run's telemetry for evaluation reads all parameters in a time range.
            models.Index(fields=["run", "observed_at"], name="sample_run_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.parameter}={self.value:g} @ {self.observed_at:%Y-%m-%d %H:%M} ({self.source})"


class SampleRollup(models.Model):
    """The lowest, highest, count and sum of one parameter's samples over one minute or one hour of a run.

    Maintained in the same transaction as the samples (``surveillance.rollup``), so a chart of a month reads about
    720 rows per parameter instead of every sample. ``bucket`` is the start of the minute or hour (UTC);
    ``first_at`` and ``last_at`` the times of its first and last sample. See docs/surveillance.md.
    """

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="sample_rollups")
    parameter = models.CharField(max_length=60)
    width_s = models.PositiveIntegerField()
    bucket = models.DateTimeField()
    n = models.PositiveIntegerField()
    total = models.FloatField()
    low = models.FloatField()
    high = models.FloatField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    program_path = "run__program"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "parameter", "width_s", "bucket"], name="sample_rollup_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parameter} {self.bucket:%Y-%m-%d %H:%M} /{self.width_s}s: {self.n} samples"


class ColourDifference(models.TextChoices):
    PRESENT = "present", "Present (dark in, bright out)"
    ABSENT = "absent", "Absent"
    NOT_APPLICABLE = "not_applicable", "n/a (sweep off)"


# The check's measured values are named by their core-api §4 codes and written as samples with source "check".
CHECK_PARAMETERS: tuple[str, ...] = (
    "pump_speed_rpm",
    "blood_flow_l_min",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "blood_temperature_c",
)
SAFETY_FIELDS: tuple[str, ...] = (
    "hand_crank_present",
    "clamps_present",
    "backup_console_ready",
    "battery_charged",
    "gas_supply_connected",
)
INSPECTION_FIELDS: tuple[str, ...] = ("air_in_circuit", "connectors_secure", "cannula_sites_ok")


class CircuitCheck(models.Model):
    """One hourly circuit check at the bedside. Amending creates a new version; the original is kept."""

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="circuit_checks")
    observed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()
    # Pump and flow
    pump_speed_rpm = models.FloatField(null=True, blank=True)
    blood_flow_l_min = models.FloatField(null=True, blank=True)
    # Pressures (ΔP = pre − post is computed)
    access_pressure_mmhg = models.FloatField(null=True, blank=True)
    pre_oxygenator_pressure_mmhg = models.FloatField(null=True, blank=True)
    post_oxygenator_pressure_mmhg = models.FloatField(null=True, blank=True)
    # Gas
    sweep_gas_l_min = models.FloatField(null=True, blank=True)
    fdo2 = models.FloatField(null=True, blank=True)
    # Temperatures
    blood_temperature_c = models.FloatField(null=True, blank=True)
    heater_set_temperature_c = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(15), MaxValueValidator(41)]
    )
    # Visual inspection (clots and fibrin are ClotFinding rows)
    colour_difference = models.CharField(max_length=16, choices=ColourDifference.choices, blank=True)
    air_in_circuit = models.BooleanField(default=False)
    connectors_secure = models.BooleanField(default=True)
    cannula_sites_ok = models.BooleanField(default=True)
    # Safety equipment
    hand_crank_present = models.BooleanField(default=True)
    clamps_present = models.BooleanField(default=True)
    backup_console_ready = models.BooleanField(default=True)
    battery_charged = models.BooleanField(default=True)
    gas_supply_connected = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    # Fields whose value was taken from telemetry and left unchanged: name → {"at", "source", "value"}.
    prefilled_fields = models.JSONField(default=list, blank=True)
    prefill_detail = models.JSONField(default=dict, blank=True)
    # Amendment chain: version 1 has no original; version n points at version 1 and at the version it replaced.
    version = models.PositiveSmallIntegerField(default=1)
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="amendments"
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="superseded_by"
    )
    amendment_reason = models.CharField(max_length=500, blank=True)
    is_current = models.BooleanField(default=True)

    program_path = "run__program"

    class Meta:
        ordering = ["-observed_at", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["original", "version"], name="check_version_unique"),
            models.CheckConstraint(
                condition=Q(version=1, original__isnull=True) | Q(version__gt=1, original__isnull=False),
                name="check_version_chain",
            ),
        ]
        indexes = [models.Index(fields=["run", "is_current", "observed_at"], name="check_current_idx")]

    def __str__(self) -> str:
        return f"Check {self.observed_at:%Y-%m-%d %H:%M} v{self.version}"

    @property
    def delta_p_mmhg(self) -> float | None:
        if self.pre_oxygenator_pressure_mmhg is None or self.post_oxygenator_pressure_mmhg is None:
            return None
        return self.pre_oxygenator_pressure_mmhg - self.post_oxygenator_pressure_mmhg

    @property
    def chain_id(self) -> int:
        return int(self.original_id or self.pk)

    def safety_missing(self) -> list[str]:
        return [self._verbose_name(f) for f in SAFETY_FIELDS if not getattr(self, f)]

    def _verbose_name(self, name: str) -> str:
        field = self._meta.get_field(name)
        assert isinstance(field, models.Field)  # the safety fields are columns, not relations
        return str(field.verbose_name)


class ClotFinding(models.Model):
    """A clot or fibrin deposit seen at a check: where, what it looks like, size, change, action."""

    class Change(models.TextChoices):
        NEW = "new", "New"
        UNCHANGED = "unchanged", "Unchanged"
        GROWING = "growing", "Growing"
        SMALLER = "smaller", "Smaller"

    class Action(models.TextChoices):
        OBSERVE = "observe", "Observe"
        MARKED = "marked", "Outlined / photographed"
        ESCALATE = "escalate", "Escalate"
        CHANGE = "change", "Change component"

    check_record = models.ForeignKey(CircuitCheck, on_delete=models.CASCADE, related_name="clots")
    location = models.CharField(max_length=120, help_text="e.g. oxygenator inflow face, lower corner")
    appearance = models.CharField(max_length=120, help_text="e.g. white fibrin, dark clot")
    size_mm = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(200)]
    )
    change = models.CharField(max_length=10, choices=Change.choices, default=Change.NEW)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.OBSERVE)

    program_path = "check_record__run__program"

    class Meta:
        ordering = ["pk"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "appearance": self.appearance,
            "size_mm": self.size_mm,
            "change": self.change,
            "action": self.action,
        }


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    CLEAR = "clear", "Clear"
    INDETERMINATE = "indeterminate", "Indeterminate"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class Alert(models.Model):
    """One alert episode: from the moment a rule fires on a run until a person resolves it.

    While unresolved, ``status`` follows the rule (it may clear and fire again within the same episode); after
    resolution the next firing opens a new alert. Adverse events and M&M cases link to alerts through
    ``AlertLink``; the component that followed is ``resolved_component``.
    """

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="alerts")
    rule_id = models.CharField(max_length=80)
    rule_version = models.PositiveIntegerField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    peak_severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    opened_at = models.DateTimeField()
    firing_since = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    message = models.TextField()
    evidence = models.JSONField(default=dict)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_comment = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to_role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_comment = models.TextField(blank=True)
    resolved_component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_alerts"
    )

    program_path = "run__program"

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["run", "resolved_at"], name="alert_run_open_idx"),
            # The escalation worker looks only at unacknowledged, unescalated, unresolved alerts.
            models.Index(
                fields=["status"],
                name="alert_escalation_due_idx",
                condition=Q(
                    acknowledged_at__isnull=True, escalated_at__isnull=True, resolved_at__isnull=True
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on run {self.run_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def rule_title(self) -> str:
        from ecmo_core.surveillance import RULES

        rule = RULES.get(self.rule_id)
        return rule.title if rule else self.rule_id

    @property
    def tone(self) -> str:
        """CSS tone: the severity while firing, else the status."""
        from ecmo_web.surveillance.present import tone

        return tone(self.severity, self.status)


class AlertTransition(models.Model):
    """A change of one rule's state on a run, stored once and never recomputed (healthchecks' ``Flip``).

    ``alert`` is set while an alert episode is open (and for the transition that opened it). ``processed`` marks
    transitions the worker (``ecmo surveil``) has handed to the notifiers.
    """

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="alert_transitions")
    rule_id = models.CharField(max_length=80)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="transitions"
    )
    at = models.DateTimeField()
    from_status = models.CharField(
        max_length=16, choices=AlertStatus.choices, blank=True
    )  # "" = first finding
    to_status = models.CharField(max_length=16, choices=AlertStatus.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    rule_version = models.PositiveIntegerField()
    message = models.TextField()
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    processed = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    program_path = "run__program"

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["run", "at"], name="transition_run_at_idx"),
            # The worker's queue: only unprocessed rows are indexed, so the index stays tiny.
            models.Index(
                fields=["created_at"], name="transition_unprocessed_idx", condition=Q(processed=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.from_status or '—'} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


class RuleState(models.Model):
    """The current state of one rule on one run, with the latest finding (updated at every evaluation)."""

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="rule_states")
    rule_id = models.CharField(max_length=80)
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    rule_version = models.PositiveIntegerField()
    since = models.DateTimeField()
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField(blank=True)
    evidence = models.JSONField(default=dict)
    evaluated_at = models.DateTimeField()

    program_path = "run__program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "rule_id"], name="rule_state_unique")]


class EvaluationCursor(models.Model):
    """How far a run has been evaluated. Transitions before it are history and are never recomputed."""

    run = models.OneToOneField(EcmoRun, on_delete=models.CASCADE, related_name="evaluation_cursor")
    evaluated_through = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    program_path = "run__program"


class AlertLink(models.Model):
    """A link from an alert to what followed or what builds on it: a decision, an adverse event, an M&M case."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="links")
    relation = models.CharField(max_length=40, help_text="resolved_by, adverse_event, mm_case, decision …")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    target_id = models.PositiveBigIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    program_path = "alert__run__program"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "relation", "target_type", "target_id"], name="alert_link_unique"
            )
        ]
        indexes = [models.Index(fields=["target_type", "target_id"], name="alert_link_target_idx")]

    @property
    def target(self) -> Any:
        return self.target_type.get_object_for_this_type(pk=self.target_id)


ESCALATION_ROLES: tuple[str, ...] = (
    Role.PERFUSIONIST,
    Role.INTENSIVIST,
    Role.ECMO_SPECIALIST,
    Role.BEDSIDE_NURSE,
    Role.SURGEON,
    Role.CARDIOLOGIST,
    Role.DIRECTOR,
)
"""Roles an unacknowledged alert may be escalated to: clinicians who can act on the circuit or the patient at
once. Not the pharmacist or physiotherapist (clinical, but not circuit responders), nor quality, researcher,
auditor or administrator (no clinical duty to the patient)."""


class SurveillanceSetting(models.Model):
    """The program's surveillance settings from ``effective_from``; a change is a new row (history kept).

    ``rules`` is the mapping of ``ecmo_core.surveillance.config_from_mapping`` (sections are rule ids and
    ``engine``), holding only values that differ from the defaults.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="surveillance_settings")
    rules = models.JSONField(default=dict, blank=True)
    escalate_warning_after_min = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text="Minutes a firing warning may stay unacknowledged before it is escalated",
    )
    escalate_critical_after_min = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Minutes a firing critical alert may stay unacknowledged before it is escalated",
    )
    escalate_to_role = models.CharField(max_length=32, choices=Role.choices, default=Role.INTENSIVIST)
    estimated_vo2_ml_kg_min = models.FloatField(
        default=3.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(10.0)],
        help_text=(
            "Oxygen consumption assumed when a flow decision is pre-filled: about 3 mL/kg/min in adults, 4–5 in "
            "children, 6 in neonates (ECMO/ECLS text on flows and O2 consumption; ELSO uses the same values)"
        ),
    )
    effective_from = models.DateTimeField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    program_path = "program"

    class Meta:
        ordering = ["-effective_from", "-pk"]
        indexes = [models.Index(fields=["program", "effective_from"], name="surveil_setting_eff_idx")]

    def escalation_minutes(self, severity: str) -> int:
        return (
            self.escalate_critical_after_min
            if severity == Severity.CRITICAL
            else self.escalate_warning_after_min
        )


class DeviceAssociation(models.Model):
    """Which run a console (by serial) or a bed feeds, from when to when: binds HL7 messages without a PID."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="device_associations")
    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="device_associations")
    console_serial = models.CharField(max_length=120, blank=True, help_text="console serial or EUI-64")
    bed = models.CharField(max_length=120, blank=True, help_text="point of care and bed, e.g. ICU^BED07")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    program_path = "program"

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(console_serial="") | ~Q(bed=""), name="association_has_key"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="association_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["console_serial", "started_at"], name="association_serial_idx"),
            models.Index(fields=["bed", "started_at"], name="association_bed_idx"),
        ]

    def active_at(self, at: dt.datetime) -> bool:
        return self.started_at <= at and (self.ended_at is None or at <= self.ended_at)


class DeadLetter(models.Model):
    """An HL7 message the listener could not take: kept whole with the reason, for a person to review."""

    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="dead_letters"
    )
    raw_message = models.TextField()
    reason = models.TextField()
    error_code = models.CharField(max_length=10, blank=True)
    error_location = models.CharField(max_length=60, blank=True)
    sending_application = models.CharField(max_length=200, blank=True)
    control_id = models.CharField(max_length=200, blank=True)
    peer = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()
    # The message names a patient other than the one on the console's or bed's run (or one its authority says is
    # someone else): refused, and a person must find out which is right.
    identity_conflict = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    # Set when the message was stored after all (``hl7_ingest.reprocess_dead_letter``); it cannot be re-processed twice.
    reprocessed_at = models.DateTimeField(null=True, blank=True)

    program_path = "program"

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="dead_letter_unreviewed_idx",
                condition=Q(reviewed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.sending_application}|{self.control_id}: {self.reason[:60]}"


class EvaluationRequest(models.Model):
    """A run with new telemetry awaiting a rule pass: the live path's durable, coalesced evaluation queue.

    The HL7 listener upserts this row in the same transaction as a message's samples (so a crash cannot lose it)
    and acknowledges without evaluating; an evaluator (``evaluation_queue.evaluate_pending``: in the listener,
    ``ecmo surveil`` or a task worker) evaluates each pending run at most once per interval, however many messages
    arrived, from ``replay_from`` (the earliest new observation). One row per run, reused.
    """

    run = models.OneToOneField(EcmoRun, on_delete=models.CASCADE, related_name="evaluation_request")
    pending = models.BooleanField(default=True)
    replay_from = models.DateTimeField(null=True, blank=True)
    # The first request since the last evaluation: how long the oldest unevaluated message has waited.
    requested_at = models.DateTimeField()
    # When an evaluator last claimed the run (the claim is its own short transaction; the evaluation follows).
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # The span an evaluation has claimed and not yet committed (its ``replay_from``): set with the claim, cleared
    # once the evaluation has committed. Left set by an evaluation that failed or whose process died, it makes the
    # run due again after the interval, from here (``evaluation_queue``).
    claimed_from = models.DateTimeField(null=True, blank=True)

    program_path = "run__program"

    class Meta:
        indexes = [
            # The evaluator's queue: only pending or claimed rows are indexed, so the indexes stay tiny.
            models.Index(fields=["requested_at"], name="evaluation_pending_idx", condition=Q(pending=True)),
            models.Index(
                fields=["evaluated_at"],
                name="evaluation_claimed_idx",
                condition=Q(claimed_from__isnull=False),
            ),
        ]


class InboundMessage(models.Model):
    """Every HL7 message the listener received, raw, with what became of it and the ACK sent (an interface
    engine's message log). Kept for ``ECMO_HL7_LOG_RETENTION_DAYS`` (``purge_inbound_messages``)."""

    class Outcome(models.TextChoices):
        STORED = "stored", "Stored"
        DUPLICATE = "duplicate", "Already held"
        ERROR = "error", "Refused (error)"
        REJECTED = "rejected", "Rejected (unreadable)"
        REPROCESSED = "reprocessed", "Stored on re-processing"

    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    run = models.ForeignKey(
        EcmoRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    received_at = models.DateTimeField()
    sending_application = models.CharField(max_length=200, blank=True)
    control_id = models.CharField(max_length=200, blank=True)
    peer = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    ack_code = models.CharField(max_length=2, blank=True)
    ack = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    raw_message = models.TextField()
    dead_letter = models.ForeignKey(
        DeadLetter, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )

    program_path = "program"

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["program", "received_at"], name="inbound_program_time_idx"),
            models.Index(fields=["control_id"], name="inbound_control_id_idx"),
            models.Index(fields=["received_at"], name="inbound_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sending_application}|{self.control_id} ({self.outcome})"


# The worker's own tables (channels, deliveries, parked work, pending uploads) live in their own module.
from ecmo_web.surveillance.worker_models import (  # noqa: E402, F401
    Delivery,
    NotificationChannel,
    PendingUpload,
    WorkFailure,
)
