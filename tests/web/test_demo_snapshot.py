"""What ``ecmo seed-demo`` puts in the database, pinned (a snapshot, tests/web/data/demo_snapshot.json).

The demo story moved from Python modules into data files (src/ecmo_web/demo/scenarios/); this test keeps the
seeded database the same through that move and after it:

- the number of rows of every model of the project's apps (audit events included); the users and their roles
- per demo run: the patient, its alerts (rule, severity, status, when opened, acknowledged by whom and when,
  escalated to, resolved by whom, with which component lot, the transitions), circuit checks and amendments,
  samples per source, decisions (kind, status, participants with role, dissent, checklist items, trial
  observations, transport legs and events, ambulation sessions)
- rounds sessions with attendance, entries, sections and goals

Times are written as offsets from the seed's ``now`` so that the snapshot holds on any day. After an intended
change to the demo, rewrite the snapshot with ``ECMO_WRITE_DEMO_SNAPSHOT=1`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps

from ecmo_web.decisions.models import Decision
from ecmo_web.demo import seed as demo_seed
from ecmo_web.rounds.models import RoundsSession
from ecmo_web.surveillance.models import Alert, CircuitCheck, Sample

SNAPSHOT = Path(__file__).parent / "data" / "demo_snapshot.json"
NOW = dt.datetime(2026, 11, 20, 10, 7, 30, tzinfo=dt.UTC)


def _t(value: dt.datetime | None) -> str | None:
    """A time as "+/-HH:MM:SS from now" (days folded into hours)."""
    if value is None:
        return None
    seconds = int((value - NOW).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _name(user: Any) -> str | None:
    return None if user is None else user.username


def _alerts(run: Any) -> list[dict[str, Any]]:
    rows = []
    for alert in Alert.objects.filter(run=run).order_by("opened_at", "rule_id", "pk"):
        rows.append(
            {
                "rule": alert.rule_id,
                "severity": alert.severity,
                "peak": alert.peak_severity,
                "status": alert.status,
                "opened": _t(alert.opened_at),
                "acknowledged": [
                    _name(alert.acknowledged_by),
                    _t(alert.acknowledged_at),
                    alert.acknowledged_comment,
                ],
                "escalated_to": alert.escalated_to_role or None,
                "resolved": [_name(alert.resolved_by), _t(alert.resolved_at), alert.resolved_comment],
                "component": alert.resolved_component.lot if alert.resolved_component else None,
                "transitions": [[t.to_status, _t(t.at)] for t in alert.transitions.order_by("at", "pk")],
            }
        )
    return rows


def _decisions(run: Any) -> list[dict[str, Any]]:
    rows = []
    for d in Decision.objects.filter(run=run).order_by("made_at", "kind", "pk"):
        rows.append(
            {
                "kind": d.kind,
                "title": d.title,
                "status": d.status,
                "made": _t(d.made_at),
                "decided": [_name(d.decided_by), d.decided_by_role, _t(d.decided_at)],
                "completed": [_name(d.completed_by), _t(d.completed_at), d.outcome],
                "content": d.content,
                "participants": sorted([_name(p.user), p.role, p.contribution] for p in d.participants.all()),
                "dissents": sorted([_name(x.user), x.reason, x.resolution] for x in d.dissents.all()),
                "checklist": sorted([c.key, c.status, _t(c.done_at)] for c in d.checklist_items.all()),
                "observations": [[o.minutes, o.values] for o in d.observations.order_by("minutes", "pk")],
                "legs": d.legs.count(),
                "transport_events": d.transport_events.count(),
                "ambulation": d.ambulation_sessions.count(),
            }
        )
    return rows


def _rounds() -> list[dict[str, Any]]:
    rows = []
    for s in RoundsSession.objects.order_by("started_at", "pk"):
        rows.append(
            {
                "started": _t(s.started_at),
                "attendance": sorted([a.name or _name(a.user) or "", a.role] for a in s.attendance.all()),
                "goals": sorted(
                    [g.run.patient.code, g.text, g.discipline, _t(g.done_at)] for g in s.goals_set.all()
                ),
                "entries": [
                    {
                        "patient": e.run.patient.code,
                        "sections": sorted([x.discipline, x.text] for x in e.sections.all()),
                    }
                    for e in s.entries.order_by("run__patient__code", "pk")
                ],
            }
        )
    return rows


def snapshot() -> dict[str, Any]:
    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model.__module__.startswith("ecmo_web.")
    }
    runs = {}
    for run in apps.get_model("runs", "EcmoRun").objects.select_related("patient").order_by("patient__code"):
        runs[run.patient.code] = {
            "indication": run.indication,
            "outcome": run.outcome,
            "console": run.console_serial,
            "started": _t(run.started_at),
            "ended": _t(run.ended_at),
            "samples": dict(
                sorted(
                    (source, Sample.objects.filter(run=run, source=source).count())
                    for source in Sample.objects.filter(run=run).values_list("source", flat=True).distinct()
                )
            ),
            "checks": CircuitCheck.objects.filter(run=run).count(),
            "amended_checks": CircuitCheck.objects.filter(run=run, amendments__isnull=False)
            .distinct()
            .count(),
            "alerts": _alerts(run),
            "decisions": _decisions(run),
        }
    users = sorted(
        [m.user.username, m.program.name, m.role]
        for m in apps.get_model("accounts", "Membership").objects.select_related("user", "program")
    )
    return {"counts": counts, "users": users, "runs": runs, "rounds": _rounds()}


@pytest.mark.django_db(transaction=False)
def test_it_seeds_the_same_demo_as_the_snapshot() -> None:
    with time_machine.travel(NOW, tick=False):
        demo_seed.seed_demo(now=NOW, password="steward-demo-test")
        got = json.loads(json.dumps(snapshot(), default=str))
    if os.environ.get("ECMO_WRITE_DEMO_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert got["counts"] == expected["counts"]
    assert got["users"] == expected["users"]
    assert got["rounds"] == expected["rounds"]
    for code in expected["runs"]:
        assert got["runs"][code] == expected["runs"][code], code
    assert got == expected
