"""The policy library: versions, sign-off by role, the version in force on a date, reviews due, decision links.

Spec checklist:
- governance.manage (quality officer, director) creates policies and drafts versions; versions are numbered
- a version needs ≥ 1 required role among the roles that may sign off, authors who are members, review after
  effective; refused input names the field and writes nothing (no row, no audit event)
- each required role signs off once, for their own role only; a role not required is refused (403 on the page)
- the sign-off that completes the set puts the version in force from its effective date (or the sign-off day
  if later); before that the previous version stays in force; the page answers "in force on date D"
- due_reviews(program, now) lists versions in force whose review falls within N days, overdue first
- a decision links to a signed-off version of its own program (decision.record); drafts and duplicates refused;
  the decision page shows the panel
- every write appends its audit event; auditors read the pages, researchers and outsiders do not
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from ecmo_web.accounts.models import Program, Role
from ecmo_web.decisions import actions as decision_actions
from ecmo_web.governance.actions import policies
from ecmo_web.governance.models import DecisionPolicyLink, Policy, PolicySignoff, PolicyVersion
from ecmo_web.permissions import MATRIX
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.governance_support import TODAY, audit_count, make_policy, make_version
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for() -> Any:
    return BrowserClient  # a CSRF-enforcing client that posts with the token, like the browser


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False):
        yield


def test_it_lets_quality_and_the_director_create_policies(personas: dict[str, Any], program: Program) -> None:
    make_policy(personas, program, "A")
    policies.create_policy(actor=personas["director"], program=program, title="B", topic="transport")
    assert audit_count("policy.created") == 2
    for role in (Role.PERFUSIONIST, Role.AUDITOR, Role.RESEARCHER, Role.ADMIN):
        with pytest.raises(PermissionDenied):
            policies.create_policy(actor=personas[role], program=program, title="C", topic="transport")
    with pytest.raises(PermissionDenied):
        policies.create_policy(actor=personas["outsider"], program=program, title="C", topic="transport")


def test_it_refuses_a_duplicate_title_or_unknown_topic(personas: dict[str, Any], program: Program) -> None:
    make_policy(personas, program, "A")
    with pytest.raises(ValidationError) as err:
        make_policy(personas, program, "A")
    assert "title" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        policies.create_policy(actor=personas["quality"], program=program, title="B", topic="cooking")
    assert "topic" in err.value.error_dict
    assert Policy.objects.count() == 1 and audit_count("policy.created") == 1


def test_it_numbers_versions(personas: dict[str, Any], program: Program) -> None:
    policy = make_policy(personas, program)
    assert [make_version(personas, policy).number, make_version(personas, policy).number] == [1, 2]
    assert audit_count("policy.version_drafted") == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"required_roles": []}, "required_roles"),
        ({"required_roles": ["researcher"]}, "required_roles"),
        ({"required_roles": ["auditor"]}, "required_roles"),
        ({"authors": []}, "authors"),
        ({"authors": ["outsider"]}, "authors"),
        ({"review_on": TODAY - dt.timedelta(days=10)}, "review_on"),
        ({"summary": "  "}, "summary"),
    ],
)
def test_it_refuses_a_bad_version_and_writes_nothing(
    personas: dict[str, Any], program: Program, change: dict[str, Any], field: str
) -> None:
    policy = make_policy(personas, program)
    args: dict[str, Any] = {
        "summary": "v",
        "text_body": "t",
        "authors": [personas["perfusionist"].pk],
        "effective_on": TODAY - dt.timedelta(days=10),
        "review_on": TODAY + dt.timedelta(days=100),
        "required_roles": ["perfusionist"],
        **change,
    }
    if args["authors"] == ["outsider"]:
        args["authors"] = [personas["outsider"].pk]
    with pytest.raises(ValidationError) as err:
        policies.draft_version(actor=personas["quality"], policy=policy, **args)
    assert field in err.value.error_dict
    assert not PolicyVersion.objects.exists() and audit_count("policy.version_drafted") == 0


def test_it_puts_a_version_in_force_when_the_last_required_role_signs(
    personas: dict[str, Any], program: Program
) -> None:
    policy = make_policy(personas, program)
    version = make_version(personas, policy)
    assert policies.version_in_force(policy, TODAY) is None
    policies.sign_off(actor=personas["perfusionist"], version=version, comment="agreed")
    version.refresh_from_db()
    assert version.fully_signed_at is None and policies.version_in_force(policy, TODAY) is None
    policies.sign_off(actor=personas["intensivist"], version=version)
    version.refresh_from_db()
    assert version.fully_signed_at == T0
    # Effective 10 days ago but complete only today: in force from today, not retroactively.
    assert policies.in_force_from(version) == TODAY
    assert policies.version_in_force(policy, TODAY) == version
    assert policies.version_in_force(policy, TODAY - dt.timedelta(days=1)) is None
    events = [e for e in _events("policy.signed_off")]
    assert [(e.after["role"], e.after["complete"]) for e in events] == [
        ("perfusionist", False),
        ("intensivist", True),
    ]


def _events(action: str) -> list[Any]:
    from ecmo_web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_it_keeps_the_previous_version_in_force_until_the_new_one_is_signed(
    personas: dict[str, Any], program: Program
) -> None:
    policy = make_policy(personas, program)
    v1 = make_version(personas, policy, required_roles=("perfusionist",))
    policies.sign_off(actor=personas["perfusionist"], version=v1)
    v2 = make_version(personas, policy, effective_on=TODAY, required_roles=("perfusionist", "director"))
    policies.sign_off(actor=personas["director"], version=v2)
    assert policies.version_in_force(policy, TODAY) == v1
    policies.sign_off(actor=personas["perfusionist"], version=v2)
    assert policies.version_in_force(policy, TODAY) == v2


def test_it_refuses_a_role_not_required_and_a_second_sign_off(
    personas: dict[str, Any], program: Program
) -> None:
    version = make_version(personas, make_policy(personas, program))
    with pytest.raises(PermissionDenied):
        policies.sign_off(actor=personas["surgeon"], version=version)
    policies.sign_off(actor=personas["perfusionist"], version=version)
    with pytest.raises(ValidationError) as err:
        policies.sign_off(actor=personas["perfusionist"], version=version)
    assert "role" in err.value.error_dict
    assert PolicySignoff.objects.count() == 1 and audit_count("policy.signed_off") == 1


@pytest.mark.parametrize("role", [r for r in Role.values if "policy.signoff" not in MATRIX[r]])
def test_it_refuses_sign_off_to_roles_without_the_action(
    personas: dict[str, Any], program: Program, role: str
) -> None:
    version = make_version(personas, make_policy(personas, program))
    with pytest.raises(PermissionDenied):
        policies.sign_off(actor=personas[role], version=version)


def test_it_lists_reviews_due_within_the_window(personas: dict[str, Any], program: Program) -> None:
    soon = make_policy(personas, program, "Soon")
    later = make_policy(personas, program, "Later")
    overdue = make_policy(personas, program, "Overdue")
    unsigned = make_policy(personas, program, "Unsigned")
    for policy, review_in in ((soon, 30), (later, 31), (overdue, -2), (unsigned, 5)):
        version = make_version(
            personas, policy, review_on=TODAY + dt.timedelta(days=review_in), required_roles=("perfusionist",)
        )
        if policy is not unsigned:
            policies.sign_off(actor=personas["perfusionist"], version=version)
    due = policies.due_reviews(program, T0, 30)
    assert [(d.policy.title, d.days_left, d.overdue_days) for d in due] == [
        ("Overdue", -2, 2),
        ("Soon", 30, 0),
    ]
    assert [d.policy.title for d in policies.due_reviews(program, T0, 31)] == ["Overdue", "Soon", "Later"]


def _decision(personas: dict[str, Any], run: EcmoRun) -> Any:
    return decision_actions.record_decision(
        actor=personas["intensivist"],
        run=run,
        kind="anticoagulation",
        title="Anti-Xa target",
        made_at=T0 - dt.timedelta(hours=1),
        content={"agent": "ufh", "test": "anti_xa_iu_ml", "apply_target": False},
    )


def test_it_links_a_decision_to_a_signed_off_version(personas: dict[str, Any], run: EcmoRun) -> None:
    version = make_version(personas, make_policy(personas, run.program), required_roles=("perfusionist",))
    decision = _decision(personas, run)
    with pytest.raises(ValidationError) as err:
        policies.link_decision(actor=personas["intensivist"], decision=decision, version=version)
    assert "version" in err.value.error_dict and not DecisionPolicyLink.objects.exists()
    policies.sign_off(actor=personas["perfusionist"], version=version)
    version.refresh_from_db()
    policies.link_decision(
        actor=personas["intensivist"], decision=decision, version=version, note="as written"
    )
    assert audit_count("policy.decision_linked") == 1
    with pytest.raises(ValidationError):
        policies.link_decision(actor=personas["intensivist"], decision=decision, version=version)
    for role in (Role.AUDITOR, Role.QUALITY, Role.RESEARCHER):
        with pytest.raises(PermissionDenied):
            policies.link_decision(actor=personas[role], decision=decision, version=version)
    assert DecisionPolicyLink.objects.count() == 1


def test_it_refuses_a_policy_of_another_program(
    personas: dict[str, Any], run: EcmoRun, other_program: Program, make_user: Any
) -> None:
    boss = make_user("south-quality", Role.QUALITY, other_program)
    south = policies.create_policy(actor=boss, program=other_program, title="South", topic="transport")
    version = policies.draft_version(
        actor=boss,
        policy=south,
        summary="s",
        text_body="t",
        authors=[personas["outsider"].pk],
        effective_on=TODAY,
        review_on=TODAY + dt.timedelta(days=9),
        required_roles=["perfusionist"],
    )
    policies.sign_off(actor=personas["outsider"], version=version)
    version.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        policies.link_decision(
            actor=personas["intensivist"], decision=_decision(personas, run), version=version
        )
    assert "version" in err.value.error_dict


# ----------------------------------------------------------------------------------------------------- pages
def test_it_signs_off_from_the_policy_page(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    policy = make_policy(personas, program)
    version = make_version(personas, policy, required_roles=("perfusionist",))
    client = client_for(personas["perfusionist"])
    page = client.get(f"/policies/{policy.pk}/")
    assert page.status_code == 200 and "Sign off as Perfusionist" in page.content.decode()
    response = client.post(f"/policy-versions/{version.pk}/signoff/", {"signoff-comment": "ok"})
    assert response.status_code == 302
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert "In force" in page and "version 1" in page and "Sign off as" not in page


def test_it_answers_403_to_a_role_that_does_not_sign(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    policy = make_policy(personas, program)
    version = make_version(personas, policy, required_roles=("perfusionist",))
    client = client_for(personas["surgeon"])
    response = client.post(f"/policy-versions/{version.pk}/signoff/", {})
    assert response.status_code == 403
    assert not PolicySignoff.objects.exists()


def test_it_drafts_a_version_from_the_page_and_shows_errors(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    policy = make_policy(personas, program)
    client = client_for(personas["quality"])
    data = {
        "version-summary": "v1",
        "version-text_body": "text",
        "version-authors": [str(personas["perfusionist"].pk)],
        "version-required_roles": ["perfusionist"],
        "version-effective_on": "2026-11-20",
        "version-review_on": "2026-11-01",
    }
    bad = client.post(f"/policies/{policy.pk}/versions/", data)
    assert bad.status_code == 400 and "must be after the effective date" in bad.content.decode()
    assert not PolicyVersion.objects.exists()
    good = client.post(f"/policies/{policy.pk}/versions/", {**data, "version-review_on": "2027-11-20"})
    assert good.status_code == 302 and PolicyVersion.objects.get().number == 1


def test_it_shows_the_version_in_force_on_a_chosen_date(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    policy = make_policy(personas, program)
    version = make_version(personas, policy, required_roles=("perfusionist",))
    policies.sign_off(actor=personas["perfusionist"], version=version)
    client = client_for(personas["auditor"])
    assert (
        "No version in force on 19 Nov 2026"
        in client.get(f"/policies/{policy.pk}/?on=2026-11-19").content.decode()
    )
    assert (
        "<strong>version 1</strong>" in client.get(f"/policies/{policy.pk}/?on=2026-11-20").content.decode()
    )
    assert client.get(f"/policies/{policy.pk}/?on=yesterday").status_code == 404


def test_it_lists_reviews_due_on_the_governance_page(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    policy = make_policy(personas, program)
    version = make_version(
        personas, policy, review_on=TODAY + dt.timedelta(days=12), required_roles=("perfusionist",)
    )
    policies.sign_off(actor=personas["perfusionist"], version=version)
    page = client_for(personas["auditor"]).get(f"/programs/{program.pk}/governance/").content.decode()
    assert "Policies due for review within 30 days" in page and "in 12 days" in page
    page = (
        client_for(personas["auditor"]).get(f"/programs/{program.pk}/governance/?within=7").content.decode()
    )
    assert "in 12 days" not in page


def test_it_hides_governance_from_researchers_and_outsiders(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    policy = make_policy(personas, program)
    assert client_for(personas["researcher"]).get(f"/policies/{policy.pk}/").status_code == 403
    assert client_for(personas["researcher"]).get(f"/programs/{program.pk}/governance/").status_code == 403
    assert client_for(personas["outsider"]).get(f"/policies/{policy.pk}/").status_code == 404


def test_it_links_from_the_decision_page(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    policy = make_policy(personas, run.program)
    version = make_version(personas, policy, required_roles=("perfusionist",))
    policies.sign_off(actor=personas["perfusionist"], version=version)
    decision = _decision(personas, run)
    client = client_for(personas["intensivist"])
    page = client.get(f"/decisions/{decision.pk}/").content.decode()
    assert "Policy followed" in page and "Link the policy" in page
    bad = client.post(f"/decisions/{decision.pk}/policies/", {"version": ""})
    assert bad.status_code == 302 and not DecisionPolicyLink.objects.exists()
    client.post(f"/decisions/{decision.pk}/policies/", {"version": str(version.pk)})
    assert DecisionPolicyLink.objects.get().version == version
    page = client.get(f"/decisions/{decision.pk}/").content.decode()
    assert "Anticoagulation</a> — version 1" in page
    assert "Link the policy" not in page  # the only signed-off version is linked already
    auditor_page = client_for(personas["auditor"]).get(f"/decisions/{decision.pk}/").content.decode()
    assert "Anticoagulation</a> — version 1" in auditor_page and "Link the policy" not in auditor_page


def test_it_reminds_once_when_a_review_falls_due_and_once_more_when_overdue(
    personas: dict[str, Any], program: Program, client_for: Any
) -> None:
    from ecmo_web import contributions
    from ecmo_web.governance.models import ReviewReminder

    policy = make_policy(personas, program)
    version = make_version(
        personas, policy, review_on=TODAY + dt.timedelta(days=30), required_roles=("perfusionist",)
    )
    policies.sign_off(actor=personas["perfusionist"], version=version)
    far = make_version(
        personas,
        make_policy(personas, program, "Far"),
        review_on=TODAY + dt.timedelta(days=31),
        required_roles=("perfusionist",),
    )
    policies.sign_off(actor=personas["perfusionist"], version=far)
    (job,) = [fn for name, fn in contributions.periodic() if name == "policy review reminders"]
    assert job(T0) == 1  # "Anticoagulation" due in 30 days; "Far" (31 days) not yet
    assert job(T0) == 0  # once
    reminder = ReviewReminder.objects.get()
    assert (reminder.version, reminder.kind) == (version, "due")
    assert "Anticoagulation (version 1) is due by 2026-12-20" in reminder.message
    assert audit_count("policy.review_reminder_due") == 1
    page = client_for(personas["auditor"]).get(f"/programs/{program.pk}/governance/").content.decode()
    assert "reminder sent 2026-11-20 10:00" in page
    later = T0 + dt.timedelta(days=31)
    made = policies.remind_reviews(later)
    assert sorted((r.version.policy.title, r.kind) for r in made) == [
        ("Anticoagulation", "overdue"),
        ("Far", "due"),
    ]
    assert policies.remind_reviews(later) == []
