"""The contribution registry (``ecmo_web.contributions``): each app's ``AppConfig.contributions()``.

- [x] the registry reads the installed apps in INSTALLED_APPS order; apps without ``contributions`` add nothing
- [x] every app's url module is mounted: each of its named URLs reverses and resolves back to the same view
- [x] every app's API router is mounted on /api/v1 (its tag is in the OpenAPI schema); a router may be given as a
  dotted module path
- [x] navigation: each item appears in the program menu for a role that may do its action, and only then
- [x] run panels: surveillance's panel first, then decisions', both rendered on the run page; a role without the
  panel's action does not see it
- [x] timeline lanes and run-list columns from runs, surveillance and decisions all show
- [x] weaning providers come from decisions without surveillance importing it (import-linter contract)
- [x] ``added`` contributes for the length of a ``with`` block, then is gone
- [x] ``contributions()`` returning something else is a start-up error naming the app
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from ecmo_web import contributions, timeline
from ecmo_web.accounts.models import Program, Role
from ecmo_web.contributions import Contributions, NavItem, RunPanel
from ecmo_web.decisions import surveillance_hooks
from ecmo_web.decisions import timeline as decision_timeline
from ecmo_web.permissions import MATRIX
from ecmo_web.quality import lanes as quality_lanes
from ecmo_web.rounds import api as rounds_api
from ecmo_web.runs import summary
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import hooks, summaries

APPS_WITH_CONTRIBUTIONS = [
    "accounts",
    "audit",
    "runs",
    "surveillance",
    "decisions",
    "rounds",
    "calculators",
    "perfusion",
    "registry",
    "quality",
    "governance",
    "bedside",
]
APPS_WITH_API = [
    "runs",
    "surveillance",
    "decisions",
    "rounds",
    "perfusion",
    "registry",
    "quality",
    "governance",
]


def test_it_reads_the_apps_in_installed_apps_order() -> None:
    labels = [c.app_label for c in contributions.collected()]
    assert labels == APPS_WITH_CONTRIBUTIONS
    installed = [config.label for config in apps.get_app_configs()]
    assert labels == [label for label in installed if label in labels]
    # accounts adds only its menu entry (its pages are mounted by the site's URL map, not through urls=)
    accounts = next(c.contributions for c in contributions.collected() if c.app_label == "accounts")
    assert accounts.urls is None and [i.url_name for i in accounts.navigation] == ["program_setup"]


def _named_patterns(module: str) -> list[URLPattern]:
    found: list[URLPattern] = []
    for entry in get_resolver(module).url_patterns:
        if isinstance(entry, URLResolver):  # an app's nested include: its own names are checked with it
            continue
        if entry.name:
            found.append(entry)
    return found


@pytest.mark.parametrize("module", contributions.urls())
def test_it_mounts_every_app_url_module_at_the_root(module: str) -> None:
    patterns = _named_patterns(module)
    assert patterns, f"{module} has no named URL"
    for pattern in patterns:
        kwargs = {
            name: (7 if conv.__class__.__name__ == "IntConverter" else "x")
            for name, conv in pattern.pattern.converters.items()
        }
        url = reverse(pattern.name, kwargs=kwargs)
        assert resolve(url).func == pattern.callback, url


def test_it_lists_the_url_modules_of_the_apps() -> None:
    assert contributions.urls() == [
        f"ecmo_web.{label}.urls" for label in APPS_WITH_CONTRIBUTIONS if label != "accounts"
    ]


@pytest.mark.django_db
def test_it_mounts_every_app_router_on_the_api(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    tags = {
        tag
        for operation in schema["paths"].values()
        for op in operation.values()
        for tag in op.get("tags", [])
    }
    assert {"runs", "surveillance", "decisions", "rounds", "perfusion", "exports", "quality"} <= tags
    assert len(contributions.api_routers()) == len(APPS_WITH_API)


def test_it_accepts_a_router_as_a_dotted_module_path() -> None:
    with contributions.added(Contributions(api_routers=(("/extra", "ecmo_web.rounds.api"),))):
        assert contributions.api_routers()[-1] == ("/extra", rounds_api.router)
    assert len(contributions.api_routers()) == len(APPS_WITH_API)


def _menu(client: Client, program: Program) -> str:
    html = client.get(reverse("program_calculators", kwargs={"program_id": program.pk})).content.decode()
    start = html.index('<nav class="program-nav"') if '<nav class="program-nav"' in html else 0
    return html[start:]


# Spot checks that must hold whatever apps are added: what each role must and must never see in the menu.
MUST = {
    Role.PERFUSIONIST: (
        {"Alerts", "Rounds board", "Perfusion", "Calculators", "M&M"},
        {"Surveillance settings"},
    ),
    Role.DIRECTOR: ({"Alerts", "Surveillance settings", "Exports", "Research", "Quality"}, set()),
    Role.ADMIN: (
        {"Calculators", "Surveillance settings", "Program setup", "Audit trail"},
        {"Alerts", "Rounds board", "Perfusion", "M&M"},
    ),
    # The auditor reads: the audit trail and the clinical record, never a settings or setup page.
    Role.AUDITOR: (
        {"Audit trail", "Alerts", "Quality"},
        {"Program setup", "Surveillance settings", "Exports"},
    ),
    # Researchers see de-identified data and aggregate indicators, never runs, adverse events or M&M cases.
    Role.RESEARCHER: ({"Calculators", "Research", "Quality"}, {"Alerts", "Rounds board", "M&M", "Exports"}),
}


@pytest.mark.parametrize("role", list(Role.values))
def test_it_shows_each_nav_item_to_the_roles_that_may_use_it(
    program: Program, personas: dict[str, Any], client_for: Callable[[Any], Client], role: str
) -> None:
    html = client_for(personas[role]).get(reverse("program_calculators", kwargs={"program_id": program.pk}))
    page = html.content.decode() if html.status_code == 200 else ""
    shown = set()
    for item in contributions.nav_items():
        href = f'href="{reverse(item.url_name, kwargs={"program_id": program.pk})}"'
        allowed = item.action in MATRIX[role]
        assert (href in page) == (allowed and html.status_code == 200), (role, item.label)
        if href in page:
            shown.add(item.label)
    must, never = MUST.get(role, (set(), set()))
    assert must <= shown and not (never & shown), (role, shown)


def test_it_orders_nav_items_by_order_then_app() -> None:
    assert [item.label for item in contributions.nav_items()] == [
        "Alerts",
        "Rounds board",
        "Perfusion",
        "Calculators",
        "Adverse events",
        "Governance",
        "M&M",
        "Quality",
        "Audits",
        "Exports",
        "Research",
        "Studies",
        "Device messages",
        "Audit trail",
        "Surveillance settings",
        "Program setup",
    ]


def test_it_renders_the_run_panels_in_order(
    run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    assert [panel.template for panel in contributions.run_panels()] == [
        "bedside/panel_circuit.html",
        "surveillance/panel_run.html",
        "surveillance/panel_hl7_identity.html",
        "decisions/_run_panel.html",
        "perfusion/_run_panel.html",
        "quality/panel_run.html",
    ]
    page = client_for(personas[Role.BEDSIDE_NURSE]).get(reverse("run_detail", kwargs={"run_id": run.pk}))
    html = page.content.decode()
    assert 'id="alerts"' in html and 'id="decisions-panel"' in html
    assert html.index('id="alerts"') < html.index('id="decisions-panel"')


def test_it_hides_a_panel_from_a_role_without_its_action(
    run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    # Only for this block: a panel that needs run.edit, which a bedside nurse does not have.
    with contributions.added(
        Contributions(run_panels=(RunPanel("partials/form_fields.html", "run.edit", order=1),))
    ):
        assert contributions.run_panels()[0].action == "run.edit"
        nurse = client_for(personas[Role.BEDSIDE_NURSE]).get(reverse("run_detail", kwargs={"run_id": run.pk}))
        perfusionist = client_for(personas[Role.PERFUSIONIST]).get(
            reverse("run_detail", kwargs={"run_id": run.pk})
        )
    assert nurse.context is not None and perfusionist.context is not None
    templates = {t.name for t in nurse.templates}
    assert "partials/form_fields.html" not in templates
    assert "partials/form_fields.html" in {t.name for t in perfusionist.templates}
    assert contributions.run_panels()[0].template == "bedside/panel_circuit.html"


def test_it_collects_lanes_columns_and_weaning_providers_from_their_apps() -> None:
    assert contributions.timeline_lanes() == [
        timeline.run_lanes,
        summaries.alert_lanes,
        decision_timeline.decision_lanes,
        quality_lanes.adverse_event_lane,
    ]
    assert contributions.run_columns() == [summary.oxygenator_age, summaries.open_alerts_column]
    assert contributions.weaning_providers() == [surveillance_hooks.weaning_trials]
    assert contributions.notifiers() == []


def test_the_run_list_and_timeline_show_every_contribution(
    run: EcmoRun, program: Program, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    client = client_for(perfusionist)
    run_list = client.get(reverse("run_list", kwargs={"program_id": program.pk})).content.decode()
    assert "Oxygenator age" in run_list and "Open alerts" in run_list
    now = run.started_at
    lanes = [lane.title for provider in contributions.timeline_lanes() for lane in provider(run, now)]
    assert "Configuration" in lanes and "Alerts" in lanes and "Decisions" in lanes


def test_added_contributions_last_only_for_the_block() -> None:
    seen: list[Any] = []
    extra = NavItem("Extra", "program_calculators", "calculator.use", order=1)
    with contributions.added(Contributions(navigation=(extra,), notifiers=(seen.append,))):
        assert contributions.nav_items()[0] == extra
        hooks.notify("a transition")
    assert seen == ["a transition"]
    assert extra not in contributions.nav_items()
    assert contributions.notifiers() == []


def test_a_contributions_method_returning_something_else_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contributions, "_collected", None)
    monkeypatch.setattr(apps.get_app_config("calculators"), "contributions", lambda: ["not", "contributions"])
    with pytest.raises(
        TypeError, match=r"ecmo_web.calculators: contributions\(\) must return a Contributions"
    ):
        contributions.collected()
