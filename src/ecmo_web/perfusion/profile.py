"""The perfusion role profile, counted from the records themselves (``ecmo_core.profile`` does the counting).

Each *source* reads one kind of record for a program and a period and returns ``profile.Record`` objects: the
area, when, a label and the link to the record behind the number. Whose records count:
- with a person chosen, that person's records (whatever their role);
- otherwise perfusion's: records that carry the role the person held at the time (decision participants, rounds
  attendance and sections) count when that role was perfusionist; records that carry only the person count when
  the person is a perfusionist member of the program.

Other apps add sources for their own areas (M&M, audits and QI, policy sign-off, education, research) as
``Contributions(profile_sources=...)``; nothing here imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse

from ecmo_core.profile import Record
from ecmo_web import contributions
from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.audit.models import AuditEvent
from ecmo_web.decisions.models import AmbulationSession, Decision, DecisionParticipant, Kind, McsCheck
from ecmo_web.rounds.models import Attendance, Discipline, RoundsSection
from ecmo_web.runs.models import Circuit, McsSetting
from ecmo_web.surveillance.models import Alert, CircuitCheck

PERFUSION_ROLE = Role.PERFUSIONIST


@dataclass(frozen=True)
class Who:
    """Whose records: one person (``user_id``), or perfusion (the program's perfusionists, or the role held)."""

    program: Program
    user_id: int | None = None

    def users(self) -> list[int]:
        if self.user_id is not None:
            return [self.user_id]
        return list(
            Membership.objects.filter(program=self.program, role=PERFUSION_ROLE).values_list(
                "user_id", flat=True
            )
        )

    def by_role(self, user_field: str, role_field: str) -> Q:
        """Records that carry the role held at the time."""
        if self.user_id is not None:
            return Q(**{user_field: self.user_id})
        return Q(**{role_field: PERFUSION_ROLE})


Source = Callable[[Who, dt.datetime, dt.datetime], Iterable[Record]]


def _run_url(run_id: int, anchor: str = "") -> str:
    return reverse("run_detail", args=[run_id]) + (f"#{anchor}" if anchor else "")


def checks(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    rows = CircuitCheck.objects.filter(
        run__program=who.program, recorded_by__in=who.users(), recorded_at__gte=start, recorded_at__lt=end
    ).values_list("pk", "run_id", "recorded_at")
    for pk, run_id, at in rows:
        url = reverse("surveillance_checks", args=[run_id]) + f"#check-{pk}"
        yield Record("circuit_checks", at, "Hourly circuit check", url)


def alerts(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    users = who.users()
    base = Alert.objects.filter(run__program=who.program)
    for pk, run_id, rule, at in base.filter(
        acknowledged_by__in=users, acknowledged_at__gte=start, acknowledged_at__lt=end
    ).values_list("pk", "run_id", "rule_id", "acknowledged_at"):
        assert at is not None  # acknowledged_at__gte: only acknowledged alerts
        url = reverse("surveillance_run_alerts", args=[run_id]) + f"#alert-{pk}"
        yield Record("alerts_handled", at, f"Alert acknowledged ({rule})", url)
    for pk, run_id, rule, at in base.filter(
        resolved_by__in=users, resolved_at__gte=start, resolved_at__lt=end
    ).values_list("pk", "run_id", "rule_id", "resolved_at"):
        assert at is not None  # resolved_at__gte: only resolved alerts
        url = reverse("surveillance_run_alerts", args=[run_id]) + f"#alert-{pk}"
        yield Record("troubleshooting", at, f"Alert resolved ({rule})", url)


# Audit actions that are circuit work with no person column on the record itself.
_AUDITED: dict[str, tuple[str, str]] = {
    "component.installed": ("circuit_setup", "Component installed"),
    "cannula.inserted": ("circuit_setup", "Cannula inserted"),
    "standby.primed": ("circuit_setup", "Circuit primed for standby"),
    "component.removed": ("component_changes", "Component removed or replaced"),
    "mcs.device_added": ("mcs", "MCS device added"),
}


def audited(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    events = list(
        AuditEvent.objects.filter(
            program=who.program, actor__in=who.users(), action__in=list(_AUDITED), at__gte=start, at__lt=end
        ).values_list("action", "at", "after")
    )
    circuit_ids = {
        int(e[2]["circuit_id"]) for e in events if isinstance(e[2], dict) and e[2].get("circuit_id")
    }
    run_of_circuit = dict(Circuit.objects.filter(pk__in=circuit_ids).values_list("pk", "run_id"))
    for action, at, after in events:
        area, label = _AUDITED[action]
        after = after if isinstance(after, dict) else {}
        run_id = after.get("run_id") or run_of_circuit.get(int(after.get("circuit_id") or 0))
        yield Record(area, at, label, _run_url(int(run_id)) if run_id else "")


def mcs(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    users = who.users()
    for run_id, at in McsSetting.objects.filter(
        device__run__program=who.program, recorded_by__in=users, at__gte=start, at__lt=end
    ).values_list("device__run_id", "at"):
        yield Record("mcs", at, "MCS setting recorded", _run_url(run_id))
    for run_id, at in McsCheck.objects.filter(
        who.by_role("checked_by_id", "checked_by_role"),
        device__run__program=who.program,
        at__gte=start,
        at__lt=end,
    ).values_list("device__run_id", "at"):
        yield Record("mcs", at, "MCS check", _run_url(run_id))


_DECISION_AREAS: dict[str, str] = {
    Kind.CANDIDACY: "candidacy_configuration",
    Kind.MODALITY: "candidacy_configuration",
    Kind.CIRCUIT_SELECTION: "candidacy_configuration",
    Kind.FLOW_TARGET: "targets",
    Kind.ANTICOAGULATION: "targets",
    Kind.WEANING_TRIAL: "weaning_decannulation",
    Kind.DECANNULATION: "weaning_decannulation",
    Kind.TRANSPORT: "transport_ambulation",
    Kind.AMBULATION: "transport_ambulation",
    Kind.MCS: "mcs",
}


def decisions(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """Decisions perfusion took part in (as a participant, or as the person who recommended or decided)."""
    taking_part = DecisionParticipant.objects.filter(who.by_role("user_id", "role")).values("decision_id")
    users = who.users()
    rows = (
        Decision.objects.filter(run__program=who.program, made_at__gte=start, made_at__lt=end)
        .filter(Q(pk__in=taking_part) | Q(recommended_by__in=users) | Q(decided_by__in=users))
        .values_list("pk", "kind", "made_at")
        .distinct()
    )
    for pk, kind, at in rows:
        area = _DECISION_AREAS.get(kind)
        if area is not None:
            yield Record(area, at, f"{Kind(kind).label} decision", reverse("decision_detail", args=[pk]))


def rounds(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    attended = Attendance.objects.filter(
        who.by_role("user_id", "role"),
        session__program=who.program,
        session__started_at__gte=start,
        session__started_at__lt=end,
    ).values_list("session__program_id", "session__date", "session__started_at")
    for program_id, date, at in attended:
        yield Record(
            "rounds", at, "Attended rounds", reverse("rounds_board", args=[program_id, f"{date:%Y-%m-%d}"])
        )
    sections = RoundsSection.objects.filter(
        who.by_role("author_id", "author_role"),
        discipline=Discipline.PERFUSION,
        entry__session__program=who.program,
        updated_at__gte=start,
        updated_at__lt=end,
    ).values_list("entry__session__program_id", "entry__session__date", "updated_at")
    for program_id, date, at in sections:
        url = reverse("rounds_board", args=[program_id, f"{date:%Y-%m-%d}"])
        yield Record("rounds", at, "Perfusion section written", url)


def ambulation(who: Who, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    for decision_id, at in AmbulationSession.objects.filter(
        decision__run__program=who.program,
        recorded_by__in=who.users(),
        started_at__gte=start,
        started_at__lt=end,
    ).values_list("decision_id", "started_at"):
        yield Record(
            "transport_ambulation", at, "Ambulation session", reverse("decision_detail", args=[decision_id])
        )


BASE_SOURCES: tuple[Source, ...] = (checks, alerts, audited, mcs, decisions, rounds, ambulation)


def records(
    program: Program, *, start: dt.datetime, end: dt.datetime, user_id: int | None = None
) -> list[Record]:
    """Every record of the period for perfusion (or one person), from this app's and other apps' sources."""
    who = Who(program, user_id)
    found: list[Record] = []
    for source in (*BASE_SOURCES, *contributions.profile_sources()):
        found.extend(source(who, start, end))
    return found


def person_choices(program: Program) -> list[tuple[int, str, str]]:
    """(user id, name, role) of the program's members, perfusionists first."""
    rows: list[Any] = list(
        Membership.objects.filter(program=program, active=True)
        .select_related("user")
        .order_by("user__username")
    )
    rows.sort(key=lambda m: (m.role != PERFUSION_ROLE, m.user.get_username()))
    return [(m.user_id, m.user.get_full_name() or m.user.get_username(), m.get_role_display()) for m in rows]
