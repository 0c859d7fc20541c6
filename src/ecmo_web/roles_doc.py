"""Render docs/roles.md from the permission matrix, so the documented table and the tested table are one."""

from __future__ import annotations

from ecmo_web.accounts.models import Role
from ecmo_web.permissions import ACTIONS, MATRIX, SECTION_ROLES


def render_roles_markdown() -> str:
    roles = list(Role)
    lines = [
        "# Roles and permissions",
        "",
        "Generated from `ecmo_web.permissions.MATRIX` by `ecmo roles-doc`; "
        "`tests/web/test_permission_matrix.py` tries every cell and fails if this file is stale.",
        "",
        "Roles belong to a membership (user × program). A role applies only inside its program: a member of "
        "another program gets a 404 for any of this program's records, and a role lacking an action gets a 403.",
        "",
        "| action | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in ACTIONS:
        cells = ["✔" if action in MATRIX[r.value] else "·" for r in roles]
        lines.append(f"| `{action}` | " + " | ".join(cells) + " |")
    lines += ["", "## Actions", ""]
    lines += [f"- `{action}`: {text}" for action, text in ACTIONS.items()]
    lines += [
        "",
        "## Rounds sections",
        "",
        "Besides `rounds.record`, a section of a patient's rounds entry is written by these roles "
        "(`permissions.SECTION_ROLES`); the perfusion section needs `rounds.perfusion`.",
        "",
    ]
    lines += [
        f"- {discipline}: " + ", ".join(r.value for r in roles if r.value in allowed)
        for discipline, allowed in SECTION_ROLES.items()
    ]
    lines += ["", "## Roles", ""]
    lines += [f"- `{r.value}`: {r.label}" for r in roles]
    return "\n".join(lines) + "\n"
