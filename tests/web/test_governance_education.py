"""Education and competency: competencies and skill sets, awards with expiry, sessions with attendance, shifts,
and who on a shift is current for what.

Spec checklist:
- governance.manage defines competencies (validity 1–120 months or none; skill set = roles) and rosters shifts
- education.record (clinicians, quality, director) records sessions and awards; auditors and researchers cannot
- an award is valid through the day before the same date validity_months later (a month after 31 Jan is 28 Feb,
  or 29 Feb in a leap year); a competency without validity never expires
- nobody assesses themself; awards and sessions cannot be in the future; attendees must be members
- a shift lasts at most 24 h and has members; refused input names its field and writes nothing
- the shift page shows each member × each competency their role requires: current / expiring (≤ 30 days) /
  expired / missing, judged on the day the shift ends
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from ecmo_web.accounts.models import Program, Role
from ecmo_web.governance import currency
from ecmo_web.governance.actions import education
from ecmo_web.governance.models import CompetencyAward, EducationSession, SessionAttendance, Shift
from ecmo_web.permissions import MATRIX
from tests.web.conftest import T0
from tests.web.governance_support import TODAY, audit_count, make_competency
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False):
        yield


def test_it_works_out_the_expiry_from_the_validity() -> None:
    assert education.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert education.add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)  # leap year
    assert education.add_months(dt.date(2026, 11, 20), 14) == dt.date(2028, 1, 20)


def test_it_awards_a_competency_with_its_expiry(personas: dict[str, Any], program: Program) -> None:
    water = make_competency(personas, program, months=12)
    award = education.award_competency(
        actor=personas["perfusionist"], competency=water, holder=personas["ecmo_specialist"], awarded_on=TODAY
    )
    # 2026-11-20 + 12 months = 2027-11-20; valid through the day before.
    assert award.expires_on == dt.date(2027, 11, 19) and award.assessed_by == personas["perfusionist"]
    assert audit_count("competency.awarded") == 1
    forever = education.create_competency(
        actor=personas["director"], program=program, name="Priming", required_for_roles=["perfusionist"]
    )
    assert (
        education.award_competency(
            actor=personas["quality"],
            competency=forever,
            holder=personas["perfusionist"].pk,
            awarded_on=TODAY,
        ).expires_on
        is None
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"holder": "self"}, "holder"),
        ({"holder": "outsider"}, "holder"),
        ({"awarded_on": TODAY + dt.timedelta(days=1)}, "awarded_on"),
    ],
)
def test_it_refuses_a_bad_award(
    personas: dict[str, Any], program: Program, change: dict[str, Any], field: str
) -> None:
    water = make_competency(personas, program)
    args: dict[str, Any] = {"holder": personas["ecmo_specialist"], "awarded_on": TODAY, **change}
    if args["holder"] == "self":
        args["holder"] = personas["perfusionist"]
    elif args["holder"] == "outsider":
        args["holder"] = personas["outsider"]
    with pytest.raises(ValidationError) as err:
        education.award_competency(actor=personas["perfusionist"], competency=water, **args)
    assert field in err.value.error_dict
    assert not CompetencyAward.objects.exists() and audit_count("competency.awarded") == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"validity_months": 0}, "validity_months"),
        ({"required_for_roles": ["wizard"]}, "required_for_roles"),
        ({"name": "Water drill"}, "name"),
    ],
)
def test_it_refuses_a_bad_competency(
    personas: dict[str, Any], program: Program, change: dict[str, Any], field: str
) -> None:
    make_competency(personas, program)
    args: dict[str, Any] = {"name": "Other", "required_for_roles": ["perfusionist"], **change}
    with pytest.raises(ValidationError) as err:
        education.create_competency(actor=personas["quality"], program=program, **args)
    assert field in err.value.error_dict
    assert audit_count("competency.created") == 1


@pytest.mark.parametrize("role", [r for r in Role.values if "education.record" not in MATRIX[r]])
def test_it_refuses_education_records_to_roles_without_the_action(
    personas: dict[str, Any], program: Program, role: str
) -> None:
    water = make_competency(personas, program)
    with pytest.raises(PermissionDenied):
        education.award_competency(
            actor=personas[role], competency=water, holder=personas["perfusionist"], awarded_on=TODAY
        )
    with pytest.raises(PermissionDenied):
        education.record_session(
            actor=personas[role],
            program=program,
            kind="simulation",
            title="t",
            held_at=T0,
            duration_min=30,
            attendees=[personas["perfusionist"]],
        )


def test_it_keeps_competencies_and_shifts_to_managers(personas: dict[str, Any], program: Program) -> None:
    for role in (Role.PERFUSIONIST, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            education.create_competency(
                actor=personas[role], program=program, name="x", required_for_roles=[]
            )
        with pytest.raises(PermissionDenied):
            education.create_shift(
                actor=personas[role],
                program=program,
                name="Day",
                starts_at=T0,
                ends_at=T0 + dt.timedelta(hours=12),
                members_on=[personas["perfusionist"]],
            )


def test_it_records_a_session_with_attendance(personas: dict[str, Any], program: Program) -> None:
    session = education.record_session(
        actor=personas["perfusionist"],
        program=program,
        kind="water_drill",
        title="Air in the circuit",
        held_at=T0 - dt.timedelta(hours=2),
        duration_min=60,
        attendees=[
            personas["ecmo_specialist"].pk,
            personas["bedside_nurse"].pk,
            personas["bedside_nurse"].pk,
        ],
        facilitator=personas["perfusionist"].pk,
    )
    assert sorted(SessionAttendance.objects.values_list("role", flat=True)) == [
        "bedside_nurse",
        "ecmo_specialist",
    ]
    assert session.facilitator == personas["perfusionist"] and audit_count("education.session_recorded") == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"held_at": T0 + dt.timedelta(hours=1)}, "held_at"),
        ({"held_at": dt.datetime(2026, 11, 20, 9, 0)}, "held_at"),
        ({"duration_min": 4}, "duration_min"),
        ({"attendees": []}, "attendees"),
        ({"attendees": ["outsider"]}, "attendees"),
    ],
)
def test_it_refuses_a_bad_session(
    personas: dict[str, Any], program: Program, change: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {
        "kind": "simulation",
        "title": "ECPR",
        "held_at": T0,
        "duration_min": 60,
        "attendees": [personas["perfusionist"].pk],
        **change,
    }
    if args["attendees"] == ["outsider"]:
        args["attendees"] = [personas["outsider"].pk]
    with pytest.raises(ValidationError) as err:
        education.record_session(actor=personas["intensivist"], program=program, **args)
    assert field in err.value.error_dict
    assert not EducationSession.objects.exists() and audit_count("education.session_recorded") == 0


@pytest.mark.parametrize(
    ("hours", "members", "field"),
    [(0, True, "ends_at"), (25, True, "ends_at"), (12, False, "members_on")],
)
def test_it_refuses_a_bad_shift(
    personas: dict[str, Any], program: Program, hours: int, members: bool, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        education.create_shift(
            actor=personas["quality"],
            program=program,
            name="Day",
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=hours),
            members_on=[personas["perfusionist"]] if members else [],
        )
    assert field in err.value.error_dict
    assert not Shift.objects.exists() and audit_count("education.shift_rostered") == 0


def test_it_shows_who_on_a_shift_is_current_for_what(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    water = make_competency(personas, program, months=12)
    oxy = education.create_competency(
        actor=personas["quality"],
        program=program,
        name="Oxygenator change",
        validity_months=12,
        required_for_roles=["perfusionist"],
    )
    education.create_competency(
        actor=personas["quality"],
        program=program,
        name="Troubleshooting",
        validity_months=12,
        required_for_roles=["bedside_nurse"],
    )
    assessor = personas["director"]
    # The shift ends 2026-11-20 22:00 London: judged on 2026-11-20.
    # perfusionist: water awarded 2026-01-01 → expires 2026-12-31 (41 days left: current);
    #               oxygenator awarded 2025-12-10 → expires 2026-12-09 (19 days left: expiring).
    # ecmo_specialist: water awarded 2025-11-01 → expired 2026-10-31; oxygenator not in their skill set.
    # bedside_nurse: troubleshooting never awarded → missing.
    for holder, comp, day in (
        ("perfusionist", water, dt.date(2026, 1, 1)),
        ("perfusionist", oxy, dt.date(2025, 12, 10)),
        ("ecmo_specialist", water, dt.date(2025, 11, 1)),
    ):
        education.award_competency(actor=assessor, competency=comp, holder=personas[holder], awarded_on=day)
    shift = education.create_shift(
        actor=personas["director"],
        program=program,
        name="Day",
        starts_at=T0,
        ends_at=T0 + dt.timedelta(hours=12),
        members_on=[personas["perfusionist"], personas["ecmo_specialist"], personas["bedside_nurse"]],
    )
    assert currency.shift_day(shift) == TODAY
    _, rows = currency.grid(
        program, [personas["perfusionist"], personas["ecmo_specialist"], personas["bedside_nurse"]], TODAY
    )
    table = {
        (r.user.username, c.competency.name): (c.required, c.currency.status) for r in rows for c in r.cells
    }
    assert table[("perfusionist", "Water drill")] == (True, "current")
    assert table[("perfusionist", "Oxygenator change")] == (True, "expiring")
    assert table[("ecmo_specialist", "Water drill")] == (True, "expired")
    assert table[("ecmo_specialist", "Oxygenator change")] == (False, "missing")
    assert table[("bedside_nurse", "Troubleshooting")] == (True, "missing")
    assert [r.gaps for r in rows] == [0, 1, 1]
    page = client_for(personas["auditor"]).get(f"/shifts/{shift.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for status in ("current", "expiring", "expired", "missing"):
        assert f'<td class="gv-{status}">' in html
    assert "to 9 Dec 2026" in html and "since 31 Oct 2026" in html
    assert client_for(personas["researcher"]).get(f"/shifts/{shift.pk}/").status_code == 403
    assert client_for(personas["outsider"]).get(f"/shifts/{shift.pk}/").status_code == 404


def test_it_records_from_the_education_page(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    water = make_competency(personas, program)
    client = client_for(personas["bedside_nurse"])
    assert client.get(f"/programs/{program.pk}/education/").status_code == 200
    bad = client.post(
        f"/programs/{program.pk}/education/awards/",
        {
            "award-competency": str(water.pk),
            "award-holder": str(personas["bedside_nurse"].pk),
            "award-awarded_on": "2026-11-20",
        },
    )
    assert bad.status_code == 400 and "assessed by someone else" in bad.content.decode()
    ok = client.post(
        f"/programs/{program.pk}/education/awards/",
        {
            "award-competency": str(water.pk),
            "award-holder": str(personas["ecmo_specialist"].pk),
            "award-awarded_on": "2026-11-20",
        },
    )
    assert ok.status_code == 302 and CompetencyAward.objects.count() == 1
    ok = client.post(
        f"/programs/{program.pk}/education/sessions/",
        {
            "session-kind": "simulation",
            "session-title": "ECPR",
            "session-held_at": "2026-11-20T08:00",
            "session-duration_min": "90",
            "session-attendees": [str(personas["perfusionist"].pk)],
        },
    )
    assert ok.status_code == 302 and EducationSession.objects.get().held_at == dt.datetime(
        2026, 11, 20, 8, 0, tzinfo=dt.UTC
    )
    assert (
        client.post(f"/programs/{program.pk}/education/competencies/", {"competency-name": "x"}).status_code
        == 403
    )
    manager = client_for(personas["quality"])
    bad = manager.post(
        f"/programs/{program.pk}/shifts/",
        {
            "shift-name": "Night",
            "shift-starts_at": "2026-11-20T19:30",
            "shift-ends_at": "2026-11-20T07:30",
            "shift-members_on": [str(personas["perfusionist"].pk)],
        },
    )
    assert bad.status_code == 400 and "must be after the start" in bad.content.decode()
    ok = manager.post(
        f"/programs/{program.pk}/shifts/",
        {
            "shift-name": "Night",
            "shift-starts_at": "2026-11-20T19:30",
            "shift-ends_at": "2026-11-21T07:30",
            "shift-members_on": [str(personas["perfusionist"].pk)],
        },
    )
    assert ok.status_code == 302 and Shift.objects.get().name == "Night"
    assert client.post(f"/programs/{program.pk}/shifts/", {"shift-name": "x"}).status_code == 403
