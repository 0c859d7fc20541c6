"""The contribution registry: what each app adds to the site, declared in one place — its ``AppConfig``.

An app's config has a method ``contributions(self) -> Contributions`` that imports its own modules inside the
method (so loading the config stays cheap and import cycles cannot form) and returns what the app adds::

    class PerfusionConfig(AppConfig):
        name = "ecmo_web.perfusion"

        def contributions(self) -> Contributions:
            from ecmo_web.perfusion import api, columns, lanes

            return Contributions(
                urls="ecmo_web.perfusion.urls",
                api_routers=(("/", api.router),),
                run_panels=(RunPanel("perfusion/_run_panel.html", "run.view", order=40),),
                timeline_lanes=(lanes.perfusion_lanes,),
                run_columns=(columns.last_gas,),
                navigation=(NavItem("Perfusion", "perfusion_board", "run.view", order=30),),
            )

The registry reads every installed app once, on first use (after ``apps.ready``), in ``INSTALLED_APPS`` order;
pages, the URL map and the API ask it (``urls()``, ``api_routers()``, ``run_panels()`` …). No app edits another
app's list, and no app imports another by string. See docs/decisions/0006-contribution-registry.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps

from ecmo_web.navigation import NavItem

if TYPE_CHECKING:
    from ninja import Router

    from ecmo_web.runs.summary import Column
    from ecmo_web.surveillance.hooks import CheckHook, Notifier, WeaningProvider
    from ecmo_web.timeline import Provider

__all__ = ["Contributions", "Job", "NavItem", "RunPanel", "added", "collected"]


@dataclass(frozen=True)
class RunPanel:
    """A template included on the run page (context: ``run``, ``request``, ``now`` …) for users who may
    ``action`` on the run; panels are shown by ``order``, then by app order."""

    template: str
    action: str
    order: int = 50


@dataclass(frozen=True)
class Job:
    """A background job an app offers (``ecmo_web.jobs.dispatch``): its name (``app.verb``) and the dotted path
    ``module:function`` of the function that runs it with JSON-able keyword arguments."""

    name: str
    target: str

    def function(self) -> Callable[..., Any]:
        module, _, attribute = self.target.partition(":")
        found: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
        return found


@dataclass(frozen=True)
class Contributions:
    """What one app adds. Every field is optional; an app adds only what it has."""

    # Dotted path of the app's url module, included at the site root.
    urls: str | None = None
    # (prefix, router) pairs mounted on /api/v1; the router may be given as a dotted module path with ``router``.
    api_routers: tuple[tuple[str, Router | str], ...] = ()
    run_panels: tuple[RunPanel, ...] = ()
    # fn(run, now) -> [timeline.Lane]
    timeline_lanes: tuple[Provider, ...] = ()
    # fn(runs, now) -> (title, {run_id: summary.Cell}): a column on the program's run list
    run_columns: tuple[Column, ...] = ()
    navigation: tuple[NavItem, ...] = ()
    # fn(run) -> [(start, end | None)]: weaning trials in progress, during which the pump-head rule stays quiet
    weaning_providers: tuple[WeaningProvider, ...] = ()
    # fn(transition): called once by the surveillance worker for every stored alert transition
    notifiers: tuple[Notifier, ...] = ()
    # (name, fn(now)): housekeeping the surveillance worker runs on every pass (standby circuits expiring,
    # review reminders, outbound queues …); each runs isolated, a failure is logged and the pass goes on
    periodic: tuple[tuple[str, Callable[[dt.datetime], Any]], ...] = ()
    # fn(who, start, end) -> [ecmo_core.profile.Record]: what perfusion did in this app's areas of the role profile
    profile_sources: tuple[Callable[..., Any], ...] = ()
    # fn(check, amended): called by the check actions inside their transaction, after the check is written (e.g.
    # an outbox row for the EHR that commits or rolls back with the check)
    check_hooks: tuple[CheckHook, ...] = ()
    # background jobs, run in-process or on Celery workers by ecmo_web.jobs.dispatch
    jobs: tuple[Job, ...] = ()


@dataclass(frozen=True)
class Contribution:
    """One app's contributions, tagged with the app that made them."""

    app_label: str
    contributions: Contributions


_collected: tuple[Contribution, ...] | None = None
_added: list[Contribution] = []


def collected() -> tuple[Contribution, ...]:
    """Every installed app's contributions in INSTALLED_APPS order (read once), then any ``added`` ones."""
    global _collected
    if _collected is None:
        apps.check_apps_ready()
        found = []
        for config in apps.get_app_configs():
            method: Callable[[], Contributions] | None = getattr(config, "contributions", None)
            if method is None:
                continue
            result = method()
            if not isinstance(result, Contributions):
                raise TypeError(f"{config.name}: contributions() must return a Contributions, not {result!r}")
            found.append(Contribution(config.label, result))
        _collected = tuple(found)
    return _collected + tuple(_added)


@contextlib.contextmanager
def added(contributions: Contributions, *, app_label: str = "added") -> Iterator[Contributions]:
    """Add contributions for the duration of a ``with`` block — e.g. a test's recording notifier.

    Only read-time contributions take effect (panels, lanes, columns, navigation, weaning providers, notifiers);
    URLs and API routers are mounted once when the URL map loads.
    """
    entry = Contribution(app_label, contributions)
    _added.append(entry)
    try:
        yield contributions
    finally:
        _added.remove(entry)


def _all(attr: str) -> list[Any]:
    return [item for c in collected() for item in getattr(c.contributions, attr)]


def urls() -> list[str]:
    return [c.contributions.urls for c in collected() if c.contributions.urls]


def api_routers() -> list[tuple[str, Router]]:
    """(prefix, router) pairs, dotted module paths resolved to their ``router``."""
    import importlib

    routers = []
    for prefix, router in _all("api_routers"):
        if isinstance(router, str):
            router = importlib.import_module(router).router
        routers.append((prefix, router))
    return routers


def run_panels() -> list[RunPanel]:
    return sorted(_all("run_panels"), key=lambda panel: panel.order)


def timeline_lanes() -> list[Provider]:
    return _all("timeline_lanes")


def run_columns() -> list[Column]:
    return _all("run_columns")


def nav_items() -> list[NavItem]:
    return sorted(_all("navigation"), key=lambda item: item.order)


def weaning_providers() -> list[WeaningProvider]:
    return _all("weaning_providers")


def notifiers() -> list[Notifier]:
    return _all("notifiers")


def periodic() -> list[tuple[str, Callable[[dt.datetime], Any]]]:
    return _all("periodic")


def profile_sources() -> list[Callable[..., Any]]:
    return _all("profile_sources")


def check_hooks() -> list[CheckHook]:
    return _all("check_hooks")
