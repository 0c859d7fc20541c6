"""Export jobs (the export log), ELSO registry submissions and studies.

``ExportJob`` is both the unit of work (queued → running → done/failed, with progress) and the export log: who
asked for what, when, with which parameters, and the SHA-256 of the file that came out. ``RegistrySubmission``
records which runs were sent to the ELSO registry, in which file, when and by whom. ``Study`` is the register of
studies (protocol, ethics approval, registry or trial, enrolled runs) with contributors (CRediT roles) and
outputs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecmo_web.accounts.models import Program
from ecmo_web.runs.models import EcmoRun

USER = settings.AUTH_USER_MODEL


class ExportKind(models.TextChoices):
    ELSO = "elso", "ELSO registry"
    ECLS_CDM = "ecls-cdm", "ECLS CDM (OMOP)"
    RESEARCH = "research", "De-identified research dataset"


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    params = models.JSONField(default=dict, blank=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="export_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result_path = models.CharField(max_length=500, blank=True, help_text="Under var/exports")
    result_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    result_bytes = models.PositiveBigIntegerField(default=0)
    row_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    program_path = "program"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "kind", "created_at"], name="export_job_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.pk} ({self.status})"

    @property
    def progress_pct(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))


class RegistrySubmission(models.Model):
    """One run sent to the ELSO registry: in which export file, when, by whom."""

    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="registry_submissions")
    job = models.ForeignKey(ExportJob, on_delete=models.PROTECT, related_name="submissions")
    registry = models.CharField(max_length=20, default="elso")
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by_name = models.CharField(max_length=150)
    file_sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)

    program_path = "run__program"

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["run", "job"], name="submission_once_per_job")]


class Study(models.Model):
    class Kind(models.TextChoices):
        REGISTRY = "registry", "Registry"
        TRIAL = "trial", "Trial"
        COHORT = "cohort", "Observational cohort"
        QI = "qi", "Quality improvement"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Enrolling"
        CLOSED = "closed", "Closed"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="studies")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    protocol_ref = models.CharField(max_length=200, blank=True, help_text="Protocol id or version")
    ethics_ref = models.CharField(max_length=200, blank=True, help_text="Ethics approval reference")
    ethics_approved_on = models.DateField(null=True, blank=True)
    registration = models.CharField(max_length=200, blank=True, help_text="Trial or registry registration id")
    runs: models.ManyToManyField[EcmoRun, Enrolment] = models.ManyToManyField(
        EcmoRun, blank=True, related_name="studies", through="Enrolment"
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    program_path = "program"

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.title


class Enrolment(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="enrolments")
    run = models.ForeignKey(EcmoRun, on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    program_path = "study__program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "run"], name="enrol_run_once")]


class CreditRole(models.TextChoices):
    """CRediT (Contributor Roles Taxonomy, ANSI/NISO Z39.104-2022): the 14 roles."""

    CONCEPTUALIZATION = "conceptualization", "Conceptualization"
    DATA_CURATION = "data_curation", "Data curation"
    FORMAL_ANALYSIS = "formal_analysis", "Formal analysis"
    FUNDING_ACQUISITION = "funding_acquisition", "Funding acquisition"
    INVESTIGATION = "investigation", "Investigation"
    METHODOLOGY = "methodology", "Methodology"
    PROJECT_ADMINISTRATION = "project_administration", "Project administration"
    RESOURCES = "resources", "Resources"
    SOFTWARE = "software", "Software"
    SUPERVISION = "supervision", "Supervision"
    VALIDATION = "validation", "Validation"
    VISUALIZATION = "visualization", "Visualization"
    WRITING_ORIGINAL = "writing_original_draft", "Writing – original draft"
    WRITING_REVIEW = "writing_review_editing", "Writing – review & editing"


class Contributor(models.Model):
    """A person's contribution to a study in one CRediT role (one row per role), with their discipline."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="contributors")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=150)
    discipline = models.CharField(max_length=40, help_text="e.g. perfusion, intensive care, nursing")
    credit_role = models.CharField(max_length=30, choices=CreditRole.choices)
    note = models.CharField(max_length=300, blank=True)

    program_path = "study__program"

    class Meta:
        ordering = ["name", "credit_role"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name", "credit_role"], name="contributor_role_once")
        ]


class StudyOutput(models.Model):
    class Kind(models.TextChoices):
        ABSTRACT = "abstract", "Abstract"
        PAPER = "paper", "Paper"
        POSTER = "poster", "Poster"
        DATASET = "dataset", "Dataset"
        REPORT = "report", "Report"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="outputs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    reference = models.CharField(max_length=300, blank=True, help_text="DOI, journal, meeting")
    published_on = models.DateField(null=True, blank=True)
    authors = models.JSONField(default=list, blank=True, help_text="Author names in order")

    program_path = "study__program"

    class Meta:
        ordering = ["-published_on", "title"]


class OutboundMessage(models.Model):
    """The EHR outbox: one row per message to send (an HL7 ORU^R01 over MLLP, or a FHIR Observation), written in
    the same transaction as the check it carries, so a check is never stored without its message or vice versa.

    The sender marks a row ``sent`` only on a positive acknowledgement (AA/CA, or FHIR 200/201); until then it
    retries with back-off. The receiver de-duplicates on ``control_id`` (MSH-10; the FHIR Observation identifier
    with a conditional create), so a resend after a lost acknowledgement delivers the check once.
    """

    class Channel(models.TextChoices):
        HL7 = "hl7", "HL7 v2 over MLLP"
        FHIR = "fhir", "FHIR Observation"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        REJECTED = "rejected", "Rejected by the receiver"

    run = models.ForeignKey(EcmoRun, on_delete=models.CASCADE, related_name="outbound_messages")
    check_record = models.ForeignKey(
        "surveillance.CircuitCheck", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    control_id = models.CharField(max_length=20, unique=True)
    payload = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    ack_code = models.CharField(max_length=8, blank=True)
    ack_text = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    program_path = "run__program"

    class Meta:
        ordering = ["id"]
        indexes = [
            # The sender's query: due rows, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.control_id} ({self.status})"
