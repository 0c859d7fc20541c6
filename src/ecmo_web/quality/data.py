"""Load a program's records for a period into ``ecmo_core.quality`` plain records (one query per kind, values
only: no model instances), so the KPI and audit functions stay pure."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q

from ecmo_core import quality as core
from ecmo_web.accounts.models import Membership, Program
from ecmo_web.decisions.models import AmbulationSession, Decision, DecisionParticipant
from ecmo_web.decisions.models import Kind as DecisionKind
from ecmo_web.quality.models import AdverseEvent, MmCase, MmContribution
from ecmo_web.rounds.models import Attendance, RoundsEntry, RoundsSection
from ecmo_web.runs.models import Circuit, Component, ConfigurationEntry, EcmoRun, RunTarget
from ecmo_web.surveillance.models import Alert, CircuitCheck, Sample

# Labs that carry an anticoagulation target (time in range).
ANTICOAGULATION_PARAMETERS = ("anti_xa_iu_ml", "aptt_s", "act_s")
# Blood-path components whose replacement counts as a circuit change.
CHANGE_KINDS = ("oxygenator", "pump_head", "tubing_pack")
TTR_MARGIN = dt.timedelta(hours=core.TTR_MAX_GAP_HOURS)


def load(program: Program, period: core.Period, *, now: dt.datetime) -> core.QualityData:
    start, end = period.start, period.end
    run_rows = list(
        EcmoRun.objects.filter(program=program, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .values_list("id", "started_at", "ended_at", "location", "outcome", "survived_to_discharge")
    )
    run_ids = [r[0] for r in run_rows]
    first_mode: dict[int, str] = {}
    for run_id, mode in (
        ConfigurationEntry.objects.filter(run_id__in=run_ids)
        .order_by("started_at")
        .values_list("run_id", "mode")
    ):
        first_mode.setdefault(run_id, mode)
    runs = tuple(
        core.RunRecord(
            run_id=rid,
            started_at=started,
            ended_at=ended,
            mode=first_mode.get(rid, ""),
            location=location,
            outcome=outcome,
            survived_to_discharge=survived,
        )
        for rid, started, ended, location, outcome, survived in run_rows
    )
    events = tuple(
        core.EventRecord(run_id, onset, category, code, action_recorded=bool(action.strip()))
        for run_id, onset, category, code, action in AdverseEvent.objects.filter(
            run_id__in=run_ids, onset_at__gte=start, onset_at__lt=end
        ).values_list("run_id", "onset_at", "category", "code", "action_taken")
    )
    changes: list[core.ChangeRecord] = []
    first_circuit: dict[int, int] = {}
    for cid, run_id, started in (
        Circuit.objects.filter(run_id__in=run_ids)
        .order_by("started_at")
        .values_list("id", "run_id", "started_at")
    ):
        if run_id in first_circuit:
            if start <= started < end:
                changes.append(core.ChangeRecord(run_id, started, "circuit"))
        else:
            first_circuit[run_id] = cid
    for run_id, installed, kind in Component.objects.filter(
        circuit__run_id__in=run_ids,
        kind__in=CHANGE_KINDS,
        replaces__isnull=False,
        installed_at__gte=start,
        installed_at__lt=end,
    ).values_list("circuit__run_id", "installed_at", "kind"):
        changes.append(core.ChangeRecord(run_id, installed, kind))
    components = tuple(
        core.ComponentRecord(run_id, kind, installed, removed)
        for run_id, kind, installed, removed in Component.objects.filter(
            circuit__run_id__in=run_ids, removed_at__gte=start, removed_at__lt=end
        ).values_list("circuit__run_id", "kind", "installed_at", "removed_at")
    )
    alerts = tuple(
        core.AlertRecord(run_id, opened, acked, severity)
        for run_id, opened, acked, severity in Alert.objects.filter(
            run_id__in=run_ids, opened_at__gte=start, opened_at__lt=end
        ).values_list("run_id", "opened_at", "acknowledged_at", "severity")
    )
    labs = tuple(
        core.LabRecord(run_id, parameter, observed, value)
        for run_id, parameter, observed, value in Sample.objects.filter(
            run_id__in=run_ids,
            parameter__in=ANTICOAGULATION_PARAMETERS,
            observed_at__gte=start - TTR_MARGIN,
            observed_at__lt=end + TTR_MARGIN,
        ).values_list("run_id", "parameter", "observed_at", "value")
    )
    targets = tuple(
        core.TargetRecord(run_id, parameter, effective, low, high)
        for run_id, parameter, effective, low, high in RunTarget.objects.filter(
            run_id__in=run_ids
        ).values_list("run_id", "parameter", "effective_from", "low", "high")
    )
    checks = tuple(
        core.CheckRecord(run_id, observed)
        for run_id, observed in CircuitCheck.objects.filter(
            run_id__in=run_ids, is_current=True, observed_at__gte=start, observed_at__lt=end
        ).values_list("run_id", "observed_at")
    )
    involvement = _involvement(program, run_ids, start, end)
    in_period = set(run_ids)
    context_ids = {i.run_id for i in involvement if i.run_id not in in_period}
    context_modes = _first_modes(list(context_ids))
    context_runs = tuple(
        core.RunRecord(
            run_id=rid,
            started_at=started,
            ended_at=ended,
            mode=context_modes.get(rid, ""),
            location=location,
            outcome=outcome,
            survived_to_discharge=survived,
        )
        for rid, started, ended, location, outcome, survived in EcmoRun.objects.filter(
            id__in=context_ids
        ).values_list("id", "started_at", "ended_at", "location", "outcome", "survived_to_discharge")
    )
    return core.QualityData(
        now=now,
        context_runs=context_runs,
        runs=runs,
        events=events,
        changes=tuple(changes),
        components=components,
        alerts=alerts,
        labs=labs,
        targets=targets,
        checks=checks,
        involvement=tuple(involvement),
    )


def _first_modes(run_ids: list[int]) -> dict[int, str]:
    first_mode: dict[int, str] = {}
    for run_id, mode in (
        ConfigurationEntry.objects.filter(run_id__in=run_ids)
        .order_by("started_at")
        .values_list("run_id", "mode")
    ):
        first_mode.setdefault(run_id, mode)
    return first_mode


def _involvement(
    program: Program, run_ids: list[int], start: dt.datetime, end: dt.datetime
) -> list[core.InvolvementRecord]:
    out: list[core.InvolvementRecord] = []
    # Rounds: each run's entry at a session; the people are the session's attendees and section authors.
    entries = list(
        RoundsEntry.objects.filter(
            run_id__in=run_ids, session__started_at__gte=start, session__started_at__lt=end
        ).values_list("id", "run_id", "session_id", "session__started_at")
    )
    session_roles: dict[int, set[str]] = defaultdict(set)
    for session_id, role in Attendance.objects.filter(session_id__in={e[2] for e in entries}).values_list(
        "session_id", "role"
    ):
        session_roles[session_id].add(role)
    entry_roles: dict[int, set[str]] = defaultdict(set)
    for entry_id, role in RoundsSection.objects.filter(entry_id__in=[e[0] for e in entries]).values_list(
        "entry_id", "author_role"
    ):
        entry_roles[entry_id].add(role)
    for entry_id, run_id, session_id, at in entries:
        out.append(
            core.InvolvementRecord(
                run_id, "rounds", at, frozenset(session_roles[session_id] | entry_roles[entry_id])
            )
        )
    # Decisions (every kind), and transports among them: participants, who recommended and who decided.
    decisions = list(
        Decision.objects.filter(run_id__in=run_ids, made_at__gte=start, made_at__lt=end).values_list(
            "id", "run_id", "kind", "made_at", "recommended_by_role", "decided_by_role"
        )
    )
    roles: dict[int, set[str]] = defaultdict(set)
    for decision_id, role in DecisionParticipant.objects.filter(
        decision_id__in=[d[0] for d in decisions]
    ).values_list("decision_id", "role"):
        roles[decision_id].add(role)
    for decision_id, run_id, kind, at, recommended_role, decided_role in decisions:
        people = frozenset(roles[decision_id] | {recommended_role, decided_role} - {""})
        out.append(core.InvolvementRecord(run_id, "decision", at, people))
        if kind == DecisionKind.TRANSPORT:
            out.append(core.InvolvementRecord(run_id, "transport", at, people))
    # Ambulation sessions: the parent decision's participants and whoever recorded the session.
    member_roles = dict(
        Membership.objects.filter(program=program, active=True).values_list("user_id", "role")
    )
    sessions = list(
        AmbulationSession.objects.filter(
            decision__run_id__in=run_ids, started_at__gte=start, started_at__lt=end
        ).values_list("decision_id", "decision__run_id", "started_at", "recorded_by_id")
    )
    parent_roles: dict[int, set[str]] = defaultdict(set)
    for decision_id, role in DecisionParticipant.objects.filter(
        decision_id__in={s[0] for s in sessions}
    ).values_list("decision_id", "role"):
        parent_roles[decision_id].add(role)
    for decision_id, run_id, at, recorder in sessions:
        roles_there = set(parent_roles[decision_id])
        if recorder in member_roles:
            roles_there.add(member_roles[recorder])
        out.append(core.InvolvementRecord(run_id, "ambulation", at, frozenset(roles_there)))
    # M&M cases opened in the period: the roles of everyone who contributed input.
    # A case is usually held after its run ended, so any of the program's runs counts (see context_runs).
    cases = list(
        MmCase.objects.filter(run__program=program, created_at__gte=start, created_at__lt=end).values_list(
            "id", "run_id", "created_at"
        )
    )
    case_roles: dict[int, set[str]] = defaultdict(set)
    for case_id, role in MmContribution.objects.filter(case_id__in=[c[0] for c in cases]).values_list(
        "case_id", "author_role"
    ):
        case_roles[case_id].add(role)
    for case_id, run_id, at in cases:
        out.append(core.InvolvementRecord(run_id, "mm_case", at, frozenset(case_roles[case_id])))
    return out
