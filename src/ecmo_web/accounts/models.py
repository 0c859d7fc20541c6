"""Programs, units, memberships (a role per program) and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from ecmo_core import units
from ecmo_core.units import UnitPreferences


def _choices(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(n, n) for n in names]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/London)")


class Program(models.Model):
    """An ECMO program: the unit of data ownership. A user sees a program's patients only through a membership."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    # Demo programs hold synthetic data only; seed-demo refuses to touch a database with any other program.
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # How people see and type values (ecmo_core.units); storage stays canonical (mmHg, g/dL, mg/dL, 10³/µL).
    pressure_unit = models.CharField(
        "blood gases (PO2, PCO2) in", max_length=8, choices=_choices(units.PRESSURE_UNITS), default="mmHg"
    )
    # Circuit pressures have their own setting: consoles show mmHg even where gases are in kPa (ecmo_core.units).
    # Blood pressure (MAP) is always mmHg.
    circuit_pressure_unit = models.CharField(
        "circuit pressures (access, pre/post-oxygenator, ΔP) in",
        max_length=8,
        choices=_choices(units.PRESSURE_UNITS),
        default="mmHg",
    )
    hemoglobin_unit = models.CharField(
        "haemoglobin in", max_length=8, choices=_choices(units.HEMOGLOBIN_UNITS), default="g/dL"
    )
    fibrinogen_unit = models.CharField(
        "fibrinogen in", max_length=8, choices=_choices(units.FIBRINOGEN_UNITS), default="mg/dL"
    )
    platelet_unit = models.CharField(
        "platelets in", max_length=8, choices=_choices(units.PLATELET_UNITS), default="10³/µL"
    )

    program_path = ""  # restrict(): this object *is* the program

    @property
    def unit_preferences(self) -> UnitPreferences:
        """This program's display units (``ecmo_core.units``). (Named directly: inside the class, ``units`` is the
        reverse relation to ``Unit``.)"""
        return UnitPreferences(
            pressure=self.pressure_unit,
            hemoglobin=self.hemoglobin_unit,
            fibrinogen=self.fibrinogen_unit,
            platelets=self.platelet_unit,
            circuit_pressure=self.circuit_pressure_unit,
        )

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A unit or team inside a program (e.g. cardiothoracic ICU, mobile retrieval team)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="units")
    name = models.CharField(max_length=120)

    program_path = "program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="unit_unique_per_program")]

    def __str__(self) -> str:
        return f"{self.program} · {self.name}"


class Role(models.TextChoices):
    PERFUSIONIST = "perfusionist", "Perfusionist"
    INTENSIVIST = "intensivist", "Intensivist"
    ECMO_SPECIALIST = "ecmo_specialist", "ECMO specialist (nurse or RT)"
    BEDSIDE_NURSE = "bedside_nurse", "Bedside nurse"
    SURGEON = "surgeon", "Surgeon"
    CARDIOLOGIST = "cardiologist", "Cardiologist"
    PHARMACIST = "pharmacist", "Pharmacist"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    DIRECTOR = "director", "Program director"
    QUALITY = "quality", "Quality officer"
    RESEARCHER = "researcher", "Researcher (de-identified data only)"
    AUDITOR = "auditor", "Auditor (read-only)"
    ADMIN = "admin", "Program administrator"


class Membership(models.Model):
    """A user's role in one program. Roles belong to the membership, never to the user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL)
    role = models.CharField(max_length=32, choices=Role.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    program_path = "program"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "program"], name="one_role_per_program")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.program}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_lifetime() -> dt.timedelta:
    """How long an API token lives (site setting ``ECMO_API_TOKEN_HOURS``, default 12 h: one shift)."""
    return dt.timedelta(hours=float(getattr(settings, "ECMO_API_TOKEN_HOURS", 12)))


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the raw token is shown once. It expires
    (``token_lifetime``) and can be revoked; a token without an expiry (issued before expiry existed) is dead."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.label or 'token'} of {self.user} (expires {self.expires_at:%Y-%m-%d %H:%M} UTC)"

    @classmethod
    def issue(
        cls, user: models.Model, label: str = "", *, now: dt.datetime | None = None
    ) -> tuple[ApiToken, str]:
        raw = secrets.token_urlsafe(32)
        expires_at = (now or timezone.now()) + token_lifetime()
        return cls.objects.create(user=user, digest=_hash_token(raw), label=label, expires_at=expires_at), raw

    @classmethod
    def lookup(cls, raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
        """The live token with this value: not revoked, not expired."""
        return (
            cls.objects.select_related("user")
            .filter(digest=_hash_token(raw), revoked=False, expires_at__gt=now or timezone.now())
            .first()
        )

    def is_live(self, now: dt.datetime) -> bool:
        return not self.revoked and self.expires_at is not None and self.expires_at > now
