"""Patients, ECMO runs, configuration history, cannulas, circuits and components, concurrent MCS devices.

Identifiers live in ``PatientIdentifier``, apart from clinical data, so that de-identified exports and the
researcher role never touch them. Histories are rows, not edits: a change from V-V to V-AV is one more
``ConfigurationEntry``; an oxygenator change closes one ``Component`` and opens another, so the age of every
component is known at any moment.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ecmo_web.accounts.models import Program


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    """Clinical facts only. Names and record numbers are ``PatientIdentifier`` rows."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="patients")
    # A program-local pseudonym shown on screens and used in de-identified exports (e.g. DEMO-0001).
    code = models.CharField(max_length=40)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="patient_code_unique")]

    def __str__(self) -> str:
        return self.code


class PatientIdentifier(models.Model):
    class Kind(models.TextChoices):
        MRN = "mrn", "Medical record number"
        NAME = "name", "Name"
        NATIONAL = "national", "National identifier"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=200)
    # Who issued the number (HL7 PID-3.4, e.g. the hospital's namespace): an identifier means a patient only
    # within its authority, so the HL7 listener matches (value, authority) and never a bare value.
    authority = models.CharField(max_length=60, blank=True)

    program_path = "patient__program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "kind"], name="one_identifier_per_kind")]
        indexes = [models.Index(fields=["value", "authority"], name="identifier_value_idx")]


class Indication(models.TextChoices):
    RESPIRATORY = "respiratory", "Respiratory"
    CARDIAC = "cardiac", "Cardiac"
    ECPR = "ecpr", "ECPR"


class Mode(models.TextChoices):
    """ELSO Maastricht nomenclature: drainage letters before the dash, return letters after."""

    VV = "vv", "V-V"
    VA = "va", "V-A"
    VAV = "vav", "V-AV"
    VVA = "vva", "VV-A"
    VPA = "vpa", "V-PA"


class Outcome(models.TextChoices):
    ONGOING = "ongoing", "On ECMO"
    WEANED = "weaned", "Weaned and decannulated"
    BRIDGE_TRANSPLANT = "bridge_transplant", "Bridged to transplant"
    BRIDGE_VAD = "bridge_vad", "Bridged to durable VAD"
    DIED_ON_ECMO = "died_on_ecmo", "Died on ECMO"
    WITHDRAWN = "withdrawn", "Support withdrawn"
    TRANSFERRED = "transferred", "Transferred on ECMO"


class EcmoRun(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="runs")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="runs")
    indication = models.CharField(max_length=16, choices=Indication.choices)
    indication_detail = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(help_text="Start of ECMO flow")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Decannulation or death on ECMO")
    outcome = models.CharField(max_length=24, choices=Outcome.choices, default=Outcome.ONGOING)
    survived_to_discharge = models.BooleanField(null=True, blank=True)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(20), MaxValueValidator(350)],
    )
    height_cm = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(100), MaxValueValidator(250)],
    )
    location = models.CharField(max_length=60, blank=True, help_text="Unit and bed, e.g. CICU bed 4")
    console_serial = models.CharField(
        max_length=60,
        blank=True,
        help_text="Console currently attached; device messages without a patient "
        "identifier are associated with the run by this serial or by the bed",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        indexes = [models.Index(fields=["program", "outcome"], name="run_program_outcome_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="run_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient.code} run {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    def current_mode(self, at: dt.datetime | None = None) -> ConfigurationEntry | None:
        entries = [e for e in self.configurations.all() if at is None or e.started_at <= at]
        return max(entries, key=lambda e: e.started_at) if entries else None

    def ecmo_day(self, on: dt.datetime | dt.date, program: Program | None = None) -> int:
        """The ECMO day of ``on``: 0 on the calendar day flow started, 1 the next, by the program's time zone
        (ELSO convention: D0 = cannulation day). The site's one day count: the run list, the run page, the rounds
        board and its handover all print this number, as the demo story's "Dk" stamps do. ``program`` (the
        run's own) saves a query on boards that already hold it."""
        from ecmo_web.timezones import to_local

        program = program if program is not None else self.program
        start = to_local(self.started_at, program)
        assert start is not None
        if isinstance(on, dt.datetime):
            local = to_local(on, program)
            assert local is not None
            on = local.date()
        return max(0, (on - start.date()).days)

    def day_on_ecmo(self, now: dt.datetime) -> int:
        """ECMO day now (or on the day the run ended): see ``ecmo_day``."""
        return self.ecmo_day(self.ended_at or now)


class ConfigurationEntry(models.Model):
    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="configurations")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    started_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    program_path = "run__program"

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(fields=["run", "started_at"], name="one_configuration_per_instant")
        ]


class Cannula(models.Model):
    class Purpose(models.TextChoices):
        DRAINAGE = "drainage", "Drainage"
        RETURN = "return", "Return"
        DUAL_LUMEN = "dual_lumen", "Dual-lumen"
        DISTAL_PERFUSION = "distal_perfusion", "Distal perfusion"

    class Site(models.TextChoices):
        RIJ = "right_internal_jugular", "Right internal jugular vein"
        LIJ = "left_internal_jugular", "Left internal jugular vein"
        RFV = "right_femoral_vein", "Right femoral vein"
        LFV = "left_femoral_vein", "Left femoral vein"
        RFA = "right_femoral_artery", "Right femoral artery"
        LFA = "left_femoral_artery", "Left femoral artery"
        RSFA = "right_superficial_femoral_artery", "Right superficial femoral artery"
        LSFA = "left_superficial_femoral_artery", "Left superficial femoral artery"
        RAX = "right_axillary_artery", "Right axillary artery"
        SUBCLAVIAN = "right_subclavian_artery", "Right subclavian artery"
        AORTA = "ascending_aorta", "Ascending aorta (central)"
        RA = "right_atrium", "Right atrium (central)"
        PA = "pulmonary_artery", "Pulmonary artery"
        LV_VENT = "left_ventricle", "Left ventricle (vent)"

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="cannulas")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    site = models.CharField(max_length=40, choices=Site.choices)
    size_fr = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(35)])
    length_cm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(80)]
    )
    tip_position = models.CharField(max_length=120, blank=True)
    maker_model = models.CharField(max_length=120, blank=True)
    inserted_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    program_path = "run__program"

    class Meta:
        ordering = ["inserted_at"]


class ComponentKind(models.TextChoices):
    PUMP_HEAD = "pump_head", "Pump head"
    OXYGENATOR = "oxygenator", "Oxygenator"
    TUBING_PACK = "tubing_pack", "Tubing pack"
    CONSOLE = "console", "Console"
    HEATER = "heater", "Heater-cooler"
    OTHER = "other", "Other"


class CatalogueKind(models.TextChoices):
    """What the catalogue stocks: the component kinds, and cannulas (which are run rows, not components)."""

    PUMP_HEAD = "pump_head", "Pump head"
    OXYGENATOR = "oxygenator", "Oxygenator"
    TUBING_PACK = "tubing_pack", "Tubing pack"
    CONSOLE = "console", "Console"
    HEATER = "heater", "Heater-cooler"
    OTHER = "other", "Other"
    CANNULA = "cannula", "Cannula"


class CatalogueItem(models.Model):
    """The device catalogue: makes and models the program stocks. Global, maintained in the admin or by CSV.

    The figures that circuit selection uses (issue 14): rated flow (oxygenators, tubing; the maximum flow of a
    pump head), priming volume, membrane surface and recommended maximum duration (oxygenators); for cannulas
    the purpose, size, length, multistage drainage, and the pressure drop against flow from the maker's
    instructions for use, as ``[[flow_l_min, pressure_drop_mmhg], …]`` (a dual-lumen cannula has a second
    list for its return lumen). ``source`` says where the figures come from.
    """

    class CannulaPurpose(models.TextChoices):
        DRAINAGE = "drainage", "Drainage"
        RETURN = "return", "Return"
        DUAL_LUMEN = "dual_lumen", "Dual-lumen"

    kind = models.CharField(max_length=16, choices=CatalogueKind.choices)
    maker = models.CharField(max_length=80)
    model = models.CharField(max_length=80)
    rated_flow_l_min = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(10)],
        help_text="Oxygenator and tubing: rated flow; pump head: maximum flow",
    )
    priming_volume_ml = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(5000)]
    )
    membrane_surface_m2 = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(5)],
    )
    max_duration_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Recommended maximum duration of use (oxygenators)",
    )
    cannula_purpose = models.CharField(max_length=12, choices=CannulaPurpose.choices, blank=True)
    size_fr = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(35)]
    )
    length_cm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(80)]
    )
    multistage = models.BooleanField(
        default=False, help_text="Multistage drainage (side holes along the body)"
    )
    pressure_flow_points = models.JSONField(
        default=list,
        blank=True,
        help_text="[[flow L/min, pressure drop mmHg], …] from the instructions for use",
    )
    return_pressure_flow_points = models.JSONField(
        default=list, blank=True, help_text="Dual-lumen cannulas: the return lumen's points"
    )
    source = models.CharField(
        max_length=300, blank=True, help_text="Where the figures come from (the IFU and its revision)"
    )
    notes = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    # Not stored: set by the catalogue page (perfusion.views.catalogue) for its template, the points as text.
    points_text: str
    return_points_text: str

    class Meta:
        ordering = ["kind", "maker", "model"]
        constraints = [models.UniqueConstraint(fields=["kind", "maker", "model"], name="catalogue_unique")]

    def __str__(self) -> str:
        return f"{self.maker} {self.model}"


class Circuit(models.Model):
    """One circuit in use on a run; a full circuit change closes it and opens another."""

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="circuits")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason_ended = models.CharField(max_length=300, blank=True)

    program_path = "run__program"

    class Meta:
        ordering = ["started_at"]


class Component(models.Model):
    circuit = models.ForeignKey(Circuit, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=16, choices=ComponentKind.choices)
    catalogue_item = models.ForeignKey(CatalogueItem, null=True, blank=True, on_delete=models.PROTECT)
    maker = models.CharField(max_length=80)
    model = models.CharField(max_length=80)
    lot = models.CharField(max_length=60, blank=True)
    serial = models.CharField(max_length=60, blank=True)
    installed_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    reason_removed = models.CharField(max_length=300, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )

    program_path = "circuit__run__program"

    class Meta:
        ordering = ["installed_at"]
        indexes = [models.Index(fields=["lot"], name="component_lot_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.maker} {self.model} lot {self.lot or '—'}"

    def age(self, now: dt.datetime) -> dt.timedelta:
        return (self.removed_at or now) - self.installed_at


class McsDevice(models.Model):
    class Kind(models.TextChoices):
        IABP = "iabp", "IABP"
        IMPELLA = "impella", "Impella"
        VAD = "vad", "VAD"
        OTHER = "other", "Other"

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="mcs_devices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    model = models.CharField(max_length=80, help_text="e.g. Impella CP, 50 cc IABP")
    site = models.CharField(max_length=80, blank=True)
    inserted_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    program_path = "run__program"

    class Meta:
        ordering = ["inserted_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model}"


class McsSetting(models.Model):
    """A setting change on an MCS device (Impella P-level, IABP ratio, VAD speed) on the run timeline."""

    device = models.ForeignKey(McsDevice, on_delete=models.CASCADE, related_name="settings")
    at = models.DateTimeField()
    impella_p_level = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(9)]
    )
    flow_l_min = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    iabp_ratio = models.CharField(max_length=8, blank=True, help_text="1:1, 1:2, 1:3")
    vad_speed_rpm = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(500), MaxValueValidator(12000)]
    )
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    program_path = "device__run__program"

    class Meta:
        ordering = ["at"]


class RunTarget(models.Model):
    """A target range for one parameter on a run (anti-Xa, aPTT, flow …), effective from a time.

    Rules read the latest target effective at the time they judge; history is kept because targets change.
    """

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="targets")
    parameter = models.CharField(max_length=60)  # a core-api §4 code, e.g. anti_xa_iu_ml
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    effective_from = models.DateTimeField()
    agent = models.CharField(max_length=20, blank=True, help_text="ufh, bivalirudin, argatroban …")
    note = models.CharField(max_length=300, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    program_path = "run__program"

    class Meta:
        ordering = ["effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(low__isnull=False) | Q(high__isnull=False), name="target_has_bound"
            ),
            models.CheckConstraint(
                condition=Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lte=models.F("high")),
                name="target_low_le_high",
            ),
        ]
