"""What the surveillance worker keeps: outbound notification channels and their delivery log, work it had to
park, and CSV uploads waiting for confirmation.

- ``NotificationChannel``: one way of reaching people who are not looking at a screen — an e-mail address (sent
  through Django's mail backend, SMTP set by the site) or a webhook of the hospital's paging or messaging gateway
  (signed with HMAC-SHA256). A channel serves roles: an alert escalated to one of them is sent there; it may also
  take every alert that starts firing at or above a severity.
- ``Delivery``: one message to one channel, with every attempt's outcome; retried with back-off, then parked.
- ``WorkFailure``: an item of the worker's (a run to evaluate, an alert to escalate, a transition to hand on)
  that failed; retried with back-off and parked after repeated failures, for a person to look at.
- ``PendingUpload``: a CSV file previewed but not yet confirmed; it expires and the worker removes it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import models
from django.db.models import Q

from ecmo_web.accounts.models import Program, Role


class NotificationChannel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Paging or messaging gateway (signed webhook)"

    class Firing(models.TextChoices):
        NONE = "", "Escalations only"
        WARNING = "warning", "Every alert that starts firing (warning or critical)"
        CRITICAL = "critical", "Every critical alert that starts firing"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="notification_channels")
    name = models.CharField(max_length=80, help_text="e.g. intensivist on call pager")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(
        max_length=500,
        help_text="e-mail addresses separated by commas, or the gateway's https URL",
    )
    roles = models.JSONField(
        default=list, blank=True, help_text="roles this channel reaches: escalations to them are sent here"
    )
    firing = models.CharField(max_length=10, choices=Firing.choices, default=Firing.NONE, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        ordering = ["program", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="one_channel_name_per_program")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def addresses(self) -> list[str]:
        return [a.strip() for a in self.target.split(",") if a.strip()]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.EMAIL:
            if not self.addresses():
                errors["target"] = "give at least one e-mail address"
            for address in self.addresses():
                try:
                    EmailValidator()(address)
                except ValidationError:
                    errors["target"] = f"{address!r} is not an e-mail address"
        elif self.kind == self.Kind.WEBHOOK:
            try:
                URLValidator(schemes=["http", "https"])(self.target)
            except ValidationError:
                errors["target"] = "give the gateway's http(s) URL"
        roles = self.roles if isinstance(self.roles, list) else None
        if roles is None or any(r not in Role.values for r in roles):
            errors["roles"] = f"a list of roles among: {', '.join(Role.values)}"
        elif not roles and not self.firing:
            errors["roles"] = "choose the roles this channel reaches, or send every firing alert to it"
        if errors:
            raise ValidationError(errors)


class Delivery(models.Model):
    """One notification to one channel: an alert that started firing, or an escalation to a role."""

    class Event(models.TextChoices):
        FIRING = "firing", "Alert firing"
        ESCALATION = "escalation", "Escalation"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, will retry"
        PARKED = "parked", "Failed repeatedly, parked"

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    alert = models.ForeignKey("surveillance.Alert", on_delete=models.CASCADE, related_name="deliveries")
    transition = models.ForeignKey(
        "surveillance.AlertTransition",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(max_length=12, choices=Event.choices)
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    response = models.TextField(blank=True, help_text="the last attempt's answer or error")
    history = models.JSONField(default=list, blank=True, help_text="every attempt: at, outcome, response")
    next_try_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    program_path = "channel__program"

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "alert", "event", "transition"], name="one_delivery_per_event"
            ),
            models.UniqueConstraint(
                fields=["channel", "alert", "event"],
                condition=Q(transition__isnull=True),
                name="one_escalation_delivery",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_try_at"],
                name="delivery_due_idx",
                condition=Q(outcome__in=["pending", "retrying"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.channel}: {self.get_outcome_display()}"


class WorkFailure(models.Model):
    """An item of the worker's that failed; retried with back-off, parked after repeated failures."""

    class Kind(models.TextChoices):
        EVALUATE = "evaluate", "Evaluating a run"
        ESCALATE = "escalate", "Escalating an alert"
        TRANSITION = "transition", "Handing on an alert transition"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.CASCADE, related_name="work_failures"
    )
    failures = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    next_try_at = models.DateTimeField()
    parked_at = models.DateTimeField(null=True, blank=True)

    program_path = "program"

    class Meta:
        ordering = ["-last_failed_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="one_failure_per_item")]

    def __str__(self) -> str:
        state = "parked" if self.parked_at else "retrying"
        return f"{self.get_kind_display()} #{self.object_id}: {self.failures} failure(s), {state}"


class PendingUpload(models.Model):
    """A CSV file previewed on the import page and waiting for the user to confirm it; the worker removes it
    once it expires (``PENDING_UPLOAD_LIFETIME``)."""

    run = models.ForeignKey("runs.EcmoRun", on_delete=models.CASCADE, related_name="pending_uploads")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the text")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    program_path = "run__program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "digest"], name="one_pending_upload_per_file")]

    def __str__(self) -> str:
        return f"CSV {self.digest[:12]} (expires {self.expires_at:%Y-%m-%d %H:%M} UTC)"
