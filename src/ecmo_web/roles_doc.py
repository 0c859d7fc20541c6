"""Render docs/roles.md from the permission matrix, so the documented table and the tested table are one."""

from __future__ import annotations

from ecmo_web.accounts.models import Role
from ecmo_web.permissions import ACTIONS, LANDING, LANDING_DEFAULT, MATRIX, SECTION_ROLES

# The landing pages in words (permissions.LANDING names URLs).
PAGES = {
    "run_list": "the program's run list",
    "registry_research": "the de-identified research datasets, with the calculators and studies beside them",
    "audit_trail": "the audit trail (read-only, filtered by what, who, record and date)",
    "quality_dashboard": "the quality indicators (KPIs)",
    "program_setup": "program setup: members and roles, the settings pages",
}


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
    lines += [
        "",
        "## Where each role starts",
        "",
        "Signing in leads each role to its own page in its program (`permissions.LANDING`); a member of several "
        "programs chooses one first. Buttons and links a role cannot use are not shown (templates ask `can` "
        "through the `{% can %}` tag); a refusal or a missing page is a styled page with a way back.",
        "",
    ]
    lines += [f"- `{r.value}`: {PAGES[LANDING.get(r.value, LANDING_DEFAULT)[0]]}" for r in roles]
    lines += ["", "## Roles", ""]
    lines += [f"- `{r.value}`: {r.label}" for r in roles]
    return "\n".join(lines) + "\n"
