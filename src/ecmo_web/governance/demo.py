"""Demo step: governance on the synthetic program — the policy library (anticoagulation, circuit change,
transport, ambulation, emergencies) with versions, sign-offs, a version awaiting the perfusionist's sign-off and
reviews falling due; decisions linked to the policy they followed; a QI project with two measures whose run
charts show a shift and a trend, and three PDSA cycles; competencies with their skill sets, awards that are
current, expiring, expired or missing; education sessions with attendance; and today's shifts.

Everything goes through the same actions as the app (actor: the quality officer or the director), so the demo
has a real audit trail. Dates are relative to the seed day, so reviews and expiries fall due as described.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_web.accounts.models import Role
from ecmo_web.decisions.models import Decision
from ecmo_web.demo.seed import DemoContext
from ecmo_web.governance import kpis
from ecmo_web.governance.actions import education, policies, qi
from ecmo_web.governance.actions._common import local_today
from ecmo_web.governance.models import PolicyVersion
from ecmo_web.timezones import program_tz

P, ICU, D, S, N = Role.PERFUSIONIST, Role.INTENSIVIST, Role.DIRECTOR, Role.ECMO_SPECIALIST, Role.BEDSIDE_NURSE
SIGNERS: dict[str, str] = {  # role → the demo user who signs for it
    P: "perfusionist",
    ICU: "intensivist",
    D: "director",
    S: "ecmo_specialist",
    N: "bedside_nurse",
    Role.SURGEON: "surgeon",
    Role.PHARMACIST: "pharmacist",
    Role.PHYSIOTHERAPIST: "physiotherapist",
}

# (title, topic, versions); a version: (summary, effective days ago, review in days, roles, roles signed, text).
LIBRARY: list[tuple[str, str, list[tuple[str, int, int, list[str], list[str], str]]]] = [
    (
        "Anticoagulation on ECMO (unfractionated heparin, anti-Xa)",
        "anticoagulation",
        [
            (
                "First version: anti-Xa 0.3–0.5 IU/mL, aPTT as second test",
                420,
                -55,
                [P, ICU, Role.PHARMACIST],
                [P, ICU, Role.PHARMACIST],
                "Unfractionated heparin by infusion after cannulation once bleeding is controlled.\n"
                "Target anti-Xa 0.30–0.50 IU/mL; aPTT 1.5–2.0 × normal as a second test.\n"
                "Anti-Xa 6 h after every rate change, then every 12 h; platelets, fibrinogen and D-dimer daily.",
            ),
            (
                "Adds low-target anti-Xa (0.2–0.3) for bleeding risk; bivalirudin for suspected HIT",
                20,
                345,
                [P, ICU, Role.PHARMACIST],
                [P, ICU, Role.PHARMACIST],
                "As version 1, with a low target (anti-Xa 0.20–0.30 IU/mL) for patients at high bleeding risk after a "
                "multidisciplinary decision, and bivalirudin when heparin-induced thrombocytopenia is suspected.",
            ),
        ],
    ),
    (
        "Circuit and oxygenator change",
        "circuit_change",
        [
            (
                "Elective membrane change criteria and the two-perfusionist procedure",
                300,
                24,
                [P, ICU, S],
                [P, ICU, S],
                "Consider an elective oxygenator change when transmembrane ΔP rises by more than 50 % over its baseline "
                "at the same flow, post-oxygenator PO2 falls below 150 mmHg on FdO2 1.0, or D-dimer rises with falling "
                "fibrinogen. Two perfusionists, spare circuit primed, off-flow time under 90 seconds.",
            ),
            (
                "Adds the plasma-free haemoglobin trigger and the post-change baseline at 6 h",
                2,
                365,
                [P, ICU, D],
                [ICU, D],
                "As version 1, adding plasma-free haemoglobin above 50 mg/dL as a trigger and a new ΔP baseline "
                "6 hours after every change. Awaiting the perfusion sign-off.",
            ),
        ],
    ),
    (
        "Intra- and inter-hospital transport on ECMO",
        "transport",
        [
            (
                "Team, equipment, oxygen and battery calculation, handover",
                200,
                165,
                [P, ICU, S],
                [P, ICU, S],
                "Minimum team: ECMO-trained physician, perfusionist, transport nurse. Oxygen for twice the expected "
                "journey; console battery for 1.5 times the journey; hand-crank tested before departure.",
            ),
        ],
    ),
    (
        "Ambulation and mobilisation on ECMO",
        "ambulation",
        [
            (
                "Readiness screen, cannula securing, perfusionist at the circuit",
                150,
                215,
                [P, Role.PHYSIOTHERAPIST, ICU],
                [P, Role.PHYSIOTHERAPIST, ICU],
                "Screen before each session; femoral cannulas secured and checked; a perfusionist stays with the circuit "
                "for every session above IMS level 3.",
            ),
        ],
    ),
    (
        "Circuit emergencies: air, pump failure, oxygenator failure, decannulation",
        "emergency",
        [
            (
                "Clamp-and-call, hand-crank, emergency circuit change",
                380,
                -3,
                [P, ICU, S, N],
                [P, ICU, S, N],
                "Air in the circuit: clamp the return line, stop the pump, call the perfusionist; de-air before restarting. "
                "Pump failure: hand-crank at the last flow. Oxygenator failure: emergency change. Accidental "
                "decannulation: clamp, pressure, call the surgeon.",
            ),
        ],
    ),
]


def _seed_policies(ctx: DemoContext, today: dt.date) -> None:
    quality = ctx.users["quality"]
    program = ctx.program
    assert program is not None
    for title, topic, versions in LIBRARY:
        policy = policies.create_policy(actor=quality, program=program, title=title, topic=topic)
        for summary, ago, review_in, required, signed, body in versions:
            effective = today - dt.timedelta(days=ago)
            version = policies.draft_version(
                actor=quality,
                policy=policy,
                summary=summary,
                text_body=body,
                authors=[ctx.users["perfusionist"], ctx.users["intensivist"]],
                effective_on=effective,
                review_on=today + dt.timedelta(days=review_in),
                required_roles=required,
            )
            for i, role in enumerate(signed):
                # Signed a week or two before the version took effect (or as drafted, for the newest).
                at = dt.datetime.combine(
                    effective - dt.timedelta(days=max(0, 14 - i)), dt.time(10, 0), tzinfo=program_tz(program)
                )
                policies.sign_off(actor=ctx.users[SIGNERS[role]], version=version, now=min(at, ctx.now))


def _link_decisions(ctx: DemoContext, today: dt.date) -> None:
    program = ctx.program
    assert program is not None
    for kind, topic in (
        ("circuit_change", "circuit_change"),
        ("anticoagulation", "anticoagulation"),
        ("transport", "transport"),
    ):
        version = (
            PolicyVersion.objects.filter(
                policy__program=program, policy__topic=topic, fully_signed_at__isnull=False
            )
            .order_by("-number")
            .first()
        )
        for decision in Decision.objects.filter(run__program=program, kind=kind).select_related("run")[:2]:
            if version is not None:
                policies.link_decision(
                    actor=ctx.users["intensivist"],
                    decision=decision,
                    version=version,
                    note="followed as written",
                )


# Weekly hourly-check completeness (fraction of expected hourly checks recorded): a baseline around 0.80, then
# after PDSA 1 and 2 a sustained rise — a shift above the median (demo values, invented).
COMPLETENESS = [
    0.79,
    0.82,
    0.78,
    0.81,
    0.80,
    0.77,
    0.83,
    0.80,
    0.86,
    0.88,
    0.87,
    0.90,
    0.91,
    0.89,
    0.93,
    0.92,
]
# Weekly median minutes from alert to acknowledgement: a fall of five weeks running — a trend.
ACK_MINUTES = [14.0, 12.5, 15.0, 13.0, 14.5, 13.5, 12.0, 10.5, 9.0, 8.0, 7.5, 8.5, 7.0, 7.5, 6.5, 7.0]


def _seed_qi(ctx: DemoContext, today: dt.date) -> None:
    program = ctx.program
    assert program is not None
    quality, perf = ctx.users["quality"], ctx.users["perfusionist"]
    monday = today - dt.timedelta(days=today.weekday())
    first = monday - dt.timedelta(weeks=len(COMPLETENESS) - 1)
    project = qi.create_project(
        actor=quality,
        program=program,
        title="Every hour checked: circuit-check completeness",
        aim="Raise the share of expected hourly circuit checks that are recorded from about 80 % to 95 % within "
        "six months, on every run, without longer check times for the bedside team.",
        started_on=first,
        lead=perf,
    )
    completeness = qi.add_measure(
        actor=quality,
        project=project,
        name="Hourly circuit checks recorded",
        kind="outcome",
        kpi_key="hourly_check_completeness",
        unit="fraction of expected checks",
        higher_is_better=True,
        baseline_points=8,
    )
    ack = qi.add_measure(
        actor=quality,
        project=project,
        name="Time from alert to acknowledgement (weekly median)",
        kind="process",
        kpi_key="alert_acknowledgement_minutes",
        unit="min",
        higher_is_better=False,
    )
    if kpis.can_compute():  # with the quality app installed: a measure computed from the demo's own records
        qi.add_measure(
            actor=quality,
            project=project,
            name="Perfusion involvement (computed weekly)",
            kind="balancing",
            kpi_key="perfusion_involvement_index",
            unit="fraction",
            computed=True,
        )
    for week, (c, a) in enumerate(zip(COMPLETENESS, ACK_MINUTES, strict=True)):
        start = first + dt.timedelta(weeks=week)
        qi.record_point(actor=perf, measure=completeness, period_start=start, value=c, now=ctx.now)
        qi.record_point(actor=perf, measure=ack, period_start=start, value=a, now=ctx.now)
    cycles: list[dict[str, Any]] = [
        {
            "change": "Check prompt on the console handover sheet",
            "plan": "Predict +5 points in two weeks.",
            "started_on": first + dt.timedelta(weeks=7),
            "ended_on": first + dt.timedelta(weeks=9),
            "study": "Completeness rose from 0.80 to 0.87; night shift still missed the 04:00 check.",
            "act": "adopt",
        },
        {
            "change": "Tablet check form at the bedside with the hourly reminder",
            "plan": "Predict 0.90 by week 12.",
            "started_on": first + dt.timedelta(weeks=9),
            "ended_on": first + dt.timedelta(weeks=12),
            "study": "0.90 reached in week 12; the reminder also shortened alert acknowledgement.",
            "act": "adapt",
        },
        {
            "change": "Reminder silenced while a check is already open",
            "plan": "Fewer duplicate reminders; hold 0.90+.",
            "started_on": first + dt.timedelta(weeks=13),
            "ended_on": None,
            "study": "",
            "act": "",
        },
    ]
    for cycle in cycles:
        qi.record_cycle(actor=perf, project=project, now=ctx.now, **cycle)


# (name, months valid, skill set of, description)
COMPETENCIES: list[tuple[str, int | None, list[str], str]] = [
    ("Circuit emergencies (water drill)", 12, [P, S], "Air, pump failure and hand-crank on a wet circuit"),
    ("Oxygenator change-out", 12, [P, S], "Elective and emergency membrane change"),
    ("Priming and de-airing", 24, [P], "Prime a circuit to the program's checklist"),
    ("Transport circuit and console", 12, [P, S], "Transport console, battery and oxygen planning"),
    ("Bedside ECMO troubleshooting", 12, [N, S], "Alarms, chatter, access pressure, when to call"),
    (
        "Anticoagulation monitoring on ECMO",
        24,
        [ICU, S, N],
        "Anti-Xa targets, bleeding and thrombosis review",
    ),
]

# (holder, competency index, awarded days ago): chosen so the shift page shows every state.
AWARDS: list[tuple[str, int, int]] = [
    ("perfusionist", 0, 100),
    ("perfusionist", 1, 200),
    ("perfusionist", 2, 300),
    ("perfusionist", 3, 340),
    ("perfusionist2", 0, 380),
    ("perfusionist2", 1, 60),
    ("perfusionist2", 2, 500),
    ("ecmo_specialist", 0, 30),
    ("ecmo_specialist", 1, 350),
    ("ecmo_specialist", 3, 120),
    ("ecmo_specialist", 4, 90),
    ("ecmo_specialist", 5, 400),
    ("bedside_nurse", 4, 45),
    ("bedside_nurse", 5, 700),
    ("bedside_nurse2", 4, 400),
    ("bedside_nurse3", 5, 100),
    ("intensivist", 5, 200),
]


def _seed_education(ctx: DemoContext, today: dt.date) -> None:
    program = ctx.program
    assert program is not None
    quality, director = ctx.users["quality"], ctx.users["director"]
    made = [
        education.create_competency(
            actor=quality,
            program=program,
            name=name,
            validity_months=months,
            required_for_roles=roles,
            description=text,
        )
        for name, months, roles, text in COMPETENCIES
    ]
    tz = program_tz(program)

    def at(days_ago: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(
            today - dt.timedelta(days=days_ago), dt.time(hour, 0), tzinfo=tz
        ).astimezone(dt.UTC)

    u = ctx.users
    water = education.record_session(
        actor=u["perfusionist"],
        program=program,
        kind="water_drill",
        title="Air in the return line, hand-crank",
        held_at=at(30, 14),
        duration_min=90,
        facilitator=u["perfusionist"],
        attendees=[u["perfusionist2"], u["ecmo_specialist"], u["bedside_nurse"], u["bedside_nurse2"]],
        notes="Wet circuit in the skills lab; every attendee clamped, de-aired and hand-cranked.",
        now=ctx.now,
    )
    education.record_session(
        actor=u["intensivist"],
        program=program,
        kind="simulation",
        title="ECPR in the cath lab (high fidelity)",
        held_at=at(12, 9),
        duration_min=120,
        facilitator=u["intensivist"],
        attendees=[
            u["perfusionist"],
            u["surgeon"],
            u["cardiologist"],
            u["ecmo_specialist"],
            u["bedside_nurse3"],
        ],
        notes="Door-to-flow 38 min; cannula selection and priming in parallel went well.",
        now=ctx.now,
    )
    education.record_session(
        actor=u["perfusionist2"],
        program=program,
        kind="emergency_drill",
        title="Pump failure at 03:00",
        held_at=at(5, 3),
        duration_min=30,
        facilitator=u["perfusionist2"],
        attendees=[u["bedside_nurse4"], u["ecmo_specialist"], u["intensivist"]],
        now=ctx.now,
    )
    for holder, index, ago in AWARDS:
        assessor = director if holder != "director" else quality
        if holder.startswith("perfusionist") or holder == "ecmo_specialist":
            assessor = u["perfusionist2"] if holder == "perfusionist" else u["perfusionist"]
        education.award_competency(
            actor=assessor,
            competency=made[index],
            holder=u[holder],
            awarded_on=today - dt.timedelta(days=ago),
            session=water if index == 0 and ago == 30 else None,
            now=ctx.now,
        )
    day_start = dt.datetime.combine(today, dt.time(7, 30), tzinfo=tz).astimezone(dt.UTC)
    education.create_shift(
        actor=quality,
        program=program,
        name="Day shift",
        starts_at=day_start,
        ends_at=day_start + dt.timedelta(hours=12),
        members_on=[
            u[n]
            for n in (
                "perfusionist",
                "ecmo_specialist",
                "intensivist",
                "bedside_nurse",
                "bedside_nurse2",
                "bedside_nurse3",
            )
        ],
    )
    education.create_shift(
        actor=quality,
        program=program,
        name="Night shift",
        starts_at=day_start + dt.timedelta(hours=12),
        ends_at=day_start + dt.timedelta(hours=24),
        members_on=[u[n] for n in ("perfusionist2", "ecmo_specialist", "bedside_nurse4", "intensivist")],
    )


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    today = local_today(ctx.program, ctx.now)
    _seed_policies(ctx, today)
    _link_decisions(ctx, today)
    _seed_qi(ctx, today)
    _seed_education(ctx, today)
