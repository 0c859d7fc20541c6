"""The role × action matrix, tried cell by cell.

- every role × every action in its own program: allowed exactly when MATRIX says so
- every action in another program: never allowed, whatever the role
- a user with no membership: nothing
- restrict() returns the same objects can() allows
- docs/roles.md is the table generated from MATRIX (regenerate with `ecmo roles-doc`)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecmo_web.accounts.models import Role
from ecmo_web.permissions import ACTIONS, MATRIX, UnknownAction, can, restrict
from ecmo_web.roles_doc import render_roles_markdown
from ecmo_web.runs.models import EcmoRun

CELLS = [(role, action) for role in Role.values for action in ACTIONS]


@pytest.mark.parametrize(("role", "action"), CELLS)
def test_it_allows_exactly_the_matrix_cell(
    personas: dict[str, Any], run: EcmoRun, role: str, action: str
) -> None:
    expected = action in MATRIX[role]
    assert can(personas[role], action, run) is expected
    assert can(personas[role], action, run.program) is expected
    assert (run in restrict(EcmoRun.objects.all(), personas[role], action)) is expected


@pytest.mark.parametrize("action", list(ACTIONS))
def test_it_never_allows_another_programs_member(personas: dict[str, Any], run: EcmoRun, action: str) -> None:
    assert can(personas["outsider"], action, run) is False
    assert not restrict(EcmoRun.objects.all(), personas["outsider"], action).exists()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_it_allows_nothing_without_membership(personas: dict[str, Any], run: EcmoRun, action: str) -> None:
    assert can(personas["nobody"], action, run) is False


def test_it_denies_inactive_memberships(personas: dict[str, Any], run: EcmoRun) -> None:
    user = personas[Role.PERFUSIONIST]
    user.memberships.update(active=False)
    user.__dict__.pop("_ecmo_roles", None)
    assert can(user, "run.view", run) is False


def test_it_refuses_unknown_actions(personas: dict[str, Any], run: EcmoRun) -> None:
    with pytest.raises(UnknownAction):
        can(personas[Role.PERFUSIONIST], "run.delete_everything", run)


def test_it_keeps_researchers_away_from_identifiable_data() -> None:
    assert "run.view" not in MATRIX[Role.RESEARCHER]
    assert "patient.identify" not in MATRIX[Role.RESEARCHER]
    assert MATRIX[Role.AUDITOR] <= {
        "run.view",
        "patient.identify",
        "calculator.use",
        "audit.view",
        "kpi.view",
    }
    assert (
        not {"adverse_event.record", "mm.manage", "mm.contribute", "clinical_audit.manage"}
        & MATRIX[Role.RESEARCHER]
    )


def test_it_documents_the_matrix_in_docs_roles_md() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
    assert doc.read_text() == render_roles_markdown(), "docs/roles.md is stale: run `ecmo roles-doc`"
