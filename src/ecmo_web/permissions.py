"""The one place that decides who may do what.

``can(user, action, obj)`` answers for one object; ``restrict(queryset, user, action)`` filters a queryset to
the objects the user may act on. Both read the same ``MATRIX`` (role → actions), which ``docs/roles.md`` prints
and ``tests/web/test_permission_matrix.py`` tries cell by cell. Every model that holds program data names the
path to its program in a ``program_path`` class attribute (``""`` for Program itself), so that a user never
sees another program's patients: membership is per program, and a role only ever applies inside it.
"""

from __future__ import annotations

from typing import Any, Final

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from ecmo_web.accounts.models import Membership, Program, Role

# Each action: what it lets a member do (printed in docs/roles.md).
ACTIONS: Final[dict[str, str]] = {
    "run.view": "See runs, circuits, checks, telemetry, alerts, decisions and rounds of the program",
    "patient.identify": "See patient identifiers (name, MRN) beside clinical data",
    "run.create": "Start a run (patient, indication, first configuration)",
    "run.edit": "Change configuration, cannulas, outcome; end a run",
    "circuit.edit": "Add, replace or remove circuit components; record circuit changes",
    "mcs.edit": "Add MCS devices (IABP, Impella, VAD) and record their settings",
    "check.record": "Record the hourly circuit check",
    "check.amend": "Amend a circuit check (with a reason; the original is kept)",
    "sample.ingest": "Enter labs and telemetry by hand, CSV or API",
    "alert.acknowledge": "Acknowledge an alert",
    "alert.resolve": "Resolve an alert and link what was done",
    "decision.record": "Record a decision with its inputs, participants and who decided",
    "rounds.record": "Run rounds: attendance, discipline sections, goals",
    "rounds.perfusion": "Write the perfusion section of a rounds entry",
    "pathway.record": "Record a pathway as it runs: checklist items, trial observations, transport legs, mobilisation",
    "calculator.use": "Use the calculators",
    "catalogue.manage": "Maintain the device catalogue",
    "settings.manage": "Change the program's clinical thresholds and settings",
    "audit.view": "Read the audit trail",
    "export.registry": "Export registry data (ELSO-style, ECLS CDM, FHIR)",
    "export.research": "Export de-identified research datasets",
    "study.manage": "Keep the study register: protocols, ethics approvals, contributors, outputs, enrolled runs",
    "program.manage": "Manage the program's members and their roles",
    "adverse_event.record": "Record an adverse event (complication) on a run, with its code, severity and lot",
    "mm.contribute": "Write a discipline's input to an M&M case",
    "mm.manage": "Open M&M cases; write the discussion, contributing factors and actions; close actions",
    "kpi.view": "See the program's quality indicators (KPIs) and audit compliance, as aggregates",
    "clinical_audit.manage": "Define clinical audits (criterion, standard, sample) and run them",
    "governance.manage": "Run governance: QI projects and measures, policies and their versions, competencies, shifts",
    "qi.record": "Record QI measure data points and PDSA cycles",
    "policy.signoff": "Sign off a policy version for one's own role, where that role's sign-off is required",
    "education.record": "Record education sessions with attendance, and competencies assessed",
}

_READ = {"run.view", "patient.identify", "calculator.use"}
_BEDSIDE = _READ | {"sample.ingest", "alert.acknowledge", "rounds.record", "pathway.record"}
_CIRCUIT = {"check.record", "check.amend", "circuit.edit", "mcs.edit", "alert.resolve"}
_PHYSICIAN = _BEDSIDE | {"run.create", "run.edit", "mcs.edit", "alert.resolve", "decision.record"}
# Quality (issue 12): clinicians record adverse events and add their input to M&M; quality and the director
# manage M&M and audits; the auditor reads; the researcher sees aggregate KPIs only, never an identified case.
_QUALITY_CLINICIAN = {"adverse_event.record", "mm.contribute", "kpi.view"}
_QUALITY_MANAGER = _QUALITY_CLINICIAN | {"mm.manage", "clinical_audit.manage"}
# Clinicians take part in governance: they record QI data and education, and sign off the policies they work by.
_GOVERN = {"qi.record", "policy.signoff", "education.record"}

MATRIX: Final[dict[str, frozenset[str]]] = {
    Role.PERFUSIONIST: frozenset(
        _BEDSIDE
        | _CIRCUIT
        | _QUALITY_CLINICIAN
        | _GOVERN
        | {"run.create", "run.edit", "decision.record", "catalogue.manage", "rounds.perfusion"}
    ),
    Role.ECMO_SPECIALIST: frozenset(
        _BEDSIDE
        | _CIRCUIT
        | _QUALITY_CLINICIAN
        | _GOVERN
        | {"run.create", "run.edit", "decision.record", "rounds.perfusion"}
    ),
    Role.INTENSIVIST: frozenset(_PHYSICIAN | _QUALITY_CLINICIAN | _GOVERN | {"circuit.edit"}),
    Role.SURGEON: frozenset(_PHYSICIAN | _QUALITY_CLINICIAN | _GOVERN | {"circuit.edit"}),
    Role.CARDIOLOGIST: frozenset(_PHYSICIAN | _QUALITY_CLINICIAN | _GOVERN),
    Role.BEDSIDE_NURSE: frozenset(_BEDSIDE | _QUALITY_CLINICIAN | _GOVERN),
    Role.PHARMACIST: frozenset(_READ | _GOVERN | {"rounds.record", "mm.contribute", "kpi.view"}),
    Role.PHYSIOTHERAPIST: frozenset(
        _READ | _GOVERN | {"rounds.record", "pathway.record", "mm.contribute", "kpi.view"}
    ),
    Role.DIRECTOR: frozenset(
        _READ
        | {
            "rounds.record",
            "decision.record",
            "settings.manage",
            "audit.view",
            "export.registry",
            "export.research",
            "study.manage",
            "program.manage",
            "catalogue.manage",
            "governance.manage",
        }
        | _QUALITY_MANAGER
        | _GOVERN
    ),
    # The de-identified research export is for the researcher and the director only (issue 13 §4).
    Role.QUALITY: frozenset(
        _READ | _QUALITY_MANAGER | _GOVERN | {"audit.view", "export.registry", "governance.manage"}
    ),
    # Researchers work on de-identified exports and aggregate KPIs only: no run pages, no identifiers, no cases.
    Role.RESEARCHER: frozenset({"export.research", "study.manage", "calculator.use", "kpi.view"}),
    Role.AUDITOR: frozenset(_READ | {"audit.view", "kpi.view"}),
    Role.ADMIN: frozenset(
        {"calculator.use", "catalogue.manage", "settings.manage", "audit.view", "program.manage"}
    ),
}
assert all(a in ACTIONS for actions in MATRIX.values() for a in actions)
assert set(MATRIX) == set(Role.values)


# Where each role starts in a program (issue 11 §6): clinicians on the run list; the researcher on the
# de-identified datasets (with the calculators beside them); the auditor on the audit trail; quality on the KPIs;
# the administrator on the program setup. Each page needs an action the role holds (checked at import).
LANDING: Final[dict[str, tuple[str, str]]] = {
    Role.RESEARCHER: ("registry_research", "export.research"),
    Role.AUDITOR: ("audit_trail", "audit.view"),
    Role.QUALITY: ("quality_dashboard", "kpi.view"),
    Role.ADMIN: ("program_setup", "program.manage"),
}
LANDING_DEFAULT: Final = ("run_list", "run.view")
assert all(action in MATRIX[role] for role, (_, action) in LANDING.items())
assert all(LANDING_DEFAULT[1] in MATRIX[role] for role in set(Role.values) - set(LANDING))


def landing(user: Any, program: Program | int) -> str:
    """The URL name (taking ``program_id``) of the page ``user``'s role in ``program`` starts on."""
    return LANDING.get(role_in(user, program) or "", LANDING_DEFAULT)[0]


class UnknownAction(LookupError):
    """A programming error: an action name that is not in ACTIONS."""


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise UnknownAction(action)


def program_id_of(obj: Model) -> int | None:
    """Follow ``obj``'s ``program_path`` to the id of the program that owns it."""
    path: str | None = getattr(type(obj), "program_path", None)
    if path is None:
        raise TypeError(f"{type(obj).__name__} has no program_path: it cannot be permission-checked")
    if path == "":
        return int(obj.pk)
    current: Any = obj
    *hops, last = path.split("__")
    for hop in hops:
        current = getattr(current, hop)
        if current is None:
            return None
    value = getattr(current, f"{last}_id")
    return int(value) if value is not None else None


def roles_by_program(user: Any) -> dict[int, str]:
    """The user's active roles, cached on the user object for the life of the request."""
    cached: dict[int, str] | None = getattr(user, "_ecmo_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user, active=True).values_list("program_id", "role"))
        user._ecmo_roles = cached
    return cached


def role_in(user: Any, program: Program | int) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    program_id = program if isinstance(program, int) else program.pk
    return roles_by_program(user).get(program_id)


def can(user: Any, action: str, obj: Model) -> bool:
    """May ``user`` perform ``action`` on ``obj`` (any model with a ``program_path``, or a Program)?"""
    _check_action(action)
    program_id = program_id_of(obj)
    if program_id is None:
        return False
    role = role_in(user, program_id)
    return role is not None and action in MATRIX[role]


def require(user: Any, action: str, obj: Model) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        raise PermissionDenied(f"{action} is not permitted here")


def programs_for(user: Any, action: str) -> list[int]:
    _check_action(action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return sorted(pid for pid, role in roles_by_program(user).items() if action in MATRIX[role])


def restrict(queryset: QuerySet[Any], user: Any, action: str) -> QuerySet[Any]:
    """Filter ``queryset`` to the objects in programs where the user's role grants ``action``."""
    path: str | None = getattr(queryset.model, "program_path", None)
    if path is None:
        raise TypeError(f"{queryset.model.__name__} has no program_path: it cannot be restricted")
    ids = programs_for(user, action)
    if path == "":
        return queryset.filter(pk__in=ids)
    return queryset.filter(**{f"{path}__in": ids})


def role_holds(role: str | None, action: str) -> bool:
    """Whether a role (rather than a user on an object) grants ``action``: for a person named in a record, e.g.
    whether a participant's role may make decisions."""
    _check_action(action)
    return role is not None and action in MATRIX.get(role, frozenset())


# Rounds: who writes which discipline's section of a patient's rounds entry, besides holding ``rounds.record``.
# The perfusion section needs ``rounds.perfusion`` instead. Keys are ``rounds.models.Discipline`` values.
SECTION_ROLES: Final[dict[str, frozenset[str]]] = {
    "medical": frozenset({Role.INTENSIVIST, Role.CARDIOLOGIST, Role.SURGEON, Role.DIRECTOR}),
    "nursing": frozenset({Role.BEDSIDE_NURSE, Role.ECMO_SPECIALIST}),
    "surgery": frozenset({Role.SURGEON}),
    "cardiology": frozenset({Role.CARDIOLOGIST}),
    "pharmacy": frozenset({Role.PHARMACIST}),
    "physiotherapy": frozenset({Role.PHYSIOTHERAPIST}),
    # Dietitians usually have no account: any member running rounds may write what they said.
    "dietetics": frozenset(Role.values),
}


def may_write_section(user: Any, entry: Model, discipline: str) -> bool:
    """May ``user`` write the ``discipline`` section of a rounds entry?"""
    if discipline == "perfusion":
        return can(user, "rounds.perfusion", entry)
    program_id = program_id_of(entry)
    if program_id is None or not can(user, "rounds.record", entry):
        return False
    # role_in is cached on the user for the request: the board asks for every section.
    return role_in(user, program_id) in SECTION_ROLES.get(discipline, frozenset())
