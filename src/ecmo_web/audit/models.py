"""The audit trail: one row per write, hash-chained so that an edited or deleted row is detectable."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did what to which record, when, why, with the state before and after.

    ``hash`` is SHA-256 over ``prev_hash`` and this event's canonical JSON (see ``audit.chain``), so the
    events form a chain: changing any stored field, or removing a row, breaks verification from there on.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150)  # kept even if the user is later removed
    action = models.CharField(max_length=80, db_index=True)  # e.g. "run.started", "check.amended"
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200, blank=True)
    # No database constraint: the trail must outlive anything it describes.
    program = models.ForeignKey(
        "accounts.Program",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    program_path = "program"

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"


class ChainHead(models.Model):
    """A single row holding the latest hash; locking it serialises appends on PostgreSQL."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
