"""Studies: the register (protocol, ethics approval, registry or trial, enrolled runs), contributors with CRediT
roles (perfusion included), outputs with their authors.

- study.manage: director and researcher; others get 403 on the page, outsiders 404;
- a study cannot enrol before its ethics approval is recorded, nor enrol a run twice or one of another program;
- a contributor holds each CRediT role once; a role outside CRediT is refused naming the field;
- every write leaves an audit event; the researcher sees the enrolment count but no patient codes.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_web.audit.models import AuditEvent
from ecmo_web.registry import actions
from ecmo_web.registry.models import Contributor, Enrolment, Study


def _study(program: Any, personas: dict[str, Any], **kw: Any) -> Study:
    fields = {"title": "Circuit longevity", "kind": "registry", "ethics_ref": "TEST-REC-1", **kw}
    return actions.create_study(actor=personas["director"], program=program, **fields)


def test_it_registers_a_study_with_contributors_and_outputs(
    program: Any, personas: dict[str, Any], run: Any
) -> None:
    study = _study(program, personas, status="active")
    actions.enrol_run(actor=personas["director"], study=study, run=run)
    actions.add_contributor(
        actor=personas["researcher"],
        study=study,
        name="Pat Perfusion",
        discipline="Perfusion",
        credit_role="data_curation",
    )
    actions.add_contributor(
        actor=personas["researcher"],
        study=study,
        name="Pat Perfusion",
        discipline="perfusion",
        credit_role="investigation",
    )
    output = actions.add_output(
        actor=personas["director"],
        study=study,
        kind="paper",
        title="Membrane life",
        authors=["Pat Perfusion", " ", "R. S."],
    )
    assert output.authors == ["Pat Perfusion", "R. S."]
    assert set(Contributor.objects.filter(discipline="perfusion").values_list("credit_role", flat=True)) == {
        "data_curation",
        "investigation",
    }
    actions_logged = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "study.created",
        "study.enrolled",
        "study.contributor_added",
        "study.output_added",
    } <= actions_logged


def test_it_refuses_enrolment_without_ethics_approval(
    program: Any, personas: dict[str, Any], run: Any
) -> None:
    study = _study(program, personas, ethics_ref="")
    with pytest.raises(ValidationError) as error:
        actions.enrol_run(actor=personas["director"], study=study, run=run)
    assert "ethics" in error.value.message_dict["run"][0]
    with pytest.raises(ValidationError) as active:
        _study(program, personas, ethics_ref="", status="active", title="Other")
    assert "ethics_ref" in active.value.message_dict
    assert not Enrolment.objects.exists()


def test_it_refuses_duplicates_and_unknown_roles(program: Any, personas: dict[str, Any], run: Any) -> None:
    study = _study(program, personas)
    actions.enrol_run(actor=personas["director"], study=study, run=run)
    with pytest.raises(ValidationError):
        actions.enrol_run(actor=personas["director"], study=study, run=run)
    with pytest.raises(ValidationError) as role:
        actions.add_contributor(
            actor=personas["director"], study=study, name="A", discipline="x", credit_role="boss"
        )
    assert "credit_role" in role.value.message_dict
    actions.add_contributor(
        actor=personas["director"], study=study, name="A", discipline="x", credit_role="software"
    )
    with pytest.raises(ValidationError):
        actions.add_contributor(
            actor=personas["director"], study=study, name="A", discipline="x", credit_role="software"
        )


def test_it_refuses_a_run_of_another_program(
    program: Any, other_program: Any, personas: dict[str, Any], run: Any
) -> None:
    from ecmo_web.kernel import SystemActor

    study = actions.create_study(
        actor=SystemActor("system:test"),
        program=other_program,
        title="Elsewhere",
        kind="trial",
        ethics_ref="E-1",
    )
    with pytest.raises(ValidationError) as error:
        actions.enrol_run(actor=SystemActor("system:test"), study=study, run=run)
    assert "another program" in error.value.message_dict["run"][0]


@pytest.mark.parametrize(
    ("who", "status"), [("director", 200), ("researcher", 200), ("perfusionist", 403), ("outsider", 404)]
)
def test_it_keeps_the_register_to_study_managers(
    program: Any, personas: dict[str, Any], client_for: Any, run: Any, who: str, status: int
) -> None:
    study = _study(program, personas)
    actions.enrol_run(actor=personas["director"], study=study, run=run)
    response = client_for(personas[who]).get(f"/studies/{study.pk}/")
    assert response.status_code == status
    if who == "researcher":
        page = response.content.decode()
        assert "TEST-0001" not in page and "Enrolled runs" in page


def test_it_registers_a_study_from_the_page(program: Any, personas: dict[str, Any], client_for: Any) -> None:
    client = client_for(personas["researcher"])
    page = client.get(f"/programs/{program.pk}/studies/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        f"/programs/{program.pk}/studies/",
        {"title": "Prone on ECMO", "kind": "cohort", "status": "planned", "csrfmiddlewaretoken": token},
    )
    study = Study.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/studies/{study.pk}/"
    assert study.created_by == personas["researcher"]
