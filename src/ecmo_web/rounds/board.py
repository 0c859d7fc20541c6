"""The rounds board for a program and a day: one card per run, shared by the page, the handover and the API.

A fixed number of queries whatever the number of runs (pinned in tests/web/test_rounds_board.py): the session with
its attendance, the entries with their runs, configurations, identifiers and sections, the goals, the open
decisions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch

from ecmo_web.accounts.models import Program
from ecmo_web.decisions.models import Decision, Status
from ecmo_web.permissions import can
from ecmo_web.rounds.actions import goals_for, may_write
from ecmo_web.rounds.models import Attendance, Discipline, RoundsEntry, RoundsSection, RoundsSession
from ecmo_web.runs.models import PatientIdentifier

# Disciplines shown on every card, in this order (perfusion first: the circuit is reported before the patient).
ORDER = [
    Discipline.PERFUSION,
    Discipline.MEDICAL,
    Discipline.NURSING,
    Discipline.SURGERY,
    Discipline.CARDIOLOGY,
    Discipline.PHARMACY,
    Discipline.PHYSIOTHERAPY,
    Discipline.DIETETICS,
]


def _name(user: Any) -> str:
    return "" if user is None else str(user.get_full_name() or user.get_username())


def ecmo_day(run: Any, date: dt.date, program: Program) -> int:
    """ECMO day of ``date`` (D0 = the day flow started): ``EcmoRun.ecmo_day``, the site's one day count."""
    return int(run.ecmo_day(date, program))


def session_for(program: Program, date: dt.date) -> RoundsSession | None:
    return (
        RoundsSession.objects.filter(program=program, date=date)
        .prefetch_related(Prefetch("attendance", queryset=Attendance.objects.select_related("user")))
        .first()
    )


def build(program: Program, date: dt.date, user: Any) -> dict[str, Any]:
    session = session_for(program, date)
    board: dict[str, Any] = {
        "program": program,
        "date": date,
        "session": session,
        "cards": [],
        "attendance": [],
    }
    if session is None:
        return board
    identify = can(user, "patient.identify", program)
    prefetches: list[Any] = [
        "run__configurations",
        Prefetch("sections", queryset=RoundsSection.objects.select_related("author")),
    ]
    if identify:
        prefetches.append(
            Prefetch("run__patient__identifiers", queryset=PatientIdentifier.objects.filter(kind="name"))
        )
    entries = list(
        RoundsEntry.objects.filter(session=session)
        .select_related("run__patient", "session")
        .prefetch_related(*prefetches)
    )
    run_ids = [e.run_id for e in entries]
    goals: dict[int, list[Any]] = {rid: [] for rid in run_ids}
    for goal in goals_for(date, run_ids, program.pk):
        goals[goal.run_id].append(goal)
    decisions: dict[int, list[Decision]] = {rid: [] for rid in run_ids}
    for d in Decision.objects.filter(run_id__in=run_ids, status=Status.OPEN).order_by("made_at"):
        decisions[d.run_id].append(d)
    board["attendance"] = [
        {"name": a.display_name(), "role": a.role, "capacity": a.capacity, "user_id": a.user_id}
        for a in session.attendance.all()
    ]
    for entry in entries:
        run = entry.run
        mode = run.current_mode(session.started_at)
        sections = {s.discipline: s for s in entry.sections.all()}
        summary = entry.perfusion_summary or {
            "available": False,
            "note": "no circuit data yet",
            "components": [],
            "planned": [],
            "mcs": [],
            "draft": "",
        }
        card_sections = []
        for discipline in ORDER:
            s = sections.get(discipline)
            card_sections.append(
                {
                    "discipline": discipline,
                    "label": Discipline(discipline).label,
                    "section": s,
                    "text": s.text if s else "",
                    "author": _name(s.author) if s else "",
                    "author_role": s.author_role if s else "",
                    "updated_at": s.updated_at if s else None,
                    "edits": len(s.history) if s else 0,
                    "can_write": may_write(user, entry, discipline),
                }
            )
        board["cards"].append(
            {
                "entry": entry,
                "run": run,
                "mode": mode,
                "day": ecmo_day(run, date, program),
                "identifiers": [i.value for i in run.patient.identifiers.all()] if identify else None,
                "perfusion": summary,
                "sections": card_sections,
                "goals": [
                    {
                        "goal": g,
                        "carried": g.set_in.date < date,
                        "done": g.done_in_id is not None and g.done_in.date <= date,
                    }
                    for g in goals[run.pk]
                ],
                "open_decisions": decisions[run.pk],
                "can_add": any(
                    s["can_write"] and not s["text"] and s["discipline"] != Discipline.PERFUSION
                    for s in card_sections
                ),
            }
        )
    return board


def as_json(board: dict[str, Any]) -> dict[str, Any]:
    """The API shape of a board."""
    session = board["session"]
    return {
        "program_id": board["program"].pk,
        "program": board["program"].name,
        "date": board["date"],
        "session": None if session is None else {"id": session.pk, "started_at": session.started_at},
        "attendance": board["attendance"],
        "cards": [
            {
                "run_id": c["run"].pk,
                "patient_code": c["run"].patient.code,
                "identifiers": c["identifiers"],
                "location": c["run"].location,
                "mode": c["mode"].mode if c["mode"] else None,
                "day_on_ecmo": c["day"],
                "indication": c["run"].indication,
                "indication_detail": c["run"].indication_detail,
                "perfusion": c["perfusion"],
                "sections": [
                    {
                        "discipline": s["discipline"],
                        "text": s["text"],
                        "author": s["author"],
                        "author_role": s["author_role"],
                        "updated_at": s["updated_at"],
                        "edits": s["edits"],
                    }
                    for s in c["sections"]
                    if s["section"] is not None
                ],
                "goals": [
                    {
                        "id": g["goal"].pk,
                        "text": g["goal"].text,
                        "discipline": g["goal"].discipline,
                        "set_on": g["goal"].set_in.date,
                        "carried_over": g["carried"],
                        "done": g["done"],
                        "done_note": g["goal"].done_note,
                    }
                    for g in c["goals"]
                ],
                "open_decisions": [
                    {"id": d.pk, "kind": d.kind, "title": d.title, "made_at": d.made_at}
                    for d in c["open_decisions"]
                ],
            }
            for c in board["cards"]
        ],
    }
