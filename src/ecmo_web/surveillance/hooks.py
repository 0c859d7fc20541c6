"""Extension points other apps fill in without surveillance importing them.

- ``register_weaning_provider(fn)``: ``fn(run) -> [(start, end | None), ...]`` — weaning trials recorded
  elsewhere (the decisions app records them as decisions of kind "weaning trial"). The pump rule stays quiet
  during a trial (core-api §4).
- ``register_notifier(fn)``: ``fn(transition)`` — called by the worker (``ecmo surveil``) for every stored alert
  transition, once; e.g. a pager or chat integration. Without one, transitions are logged.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("ecmo.surveillance")

WeaningProvider = Callable[[Any], list[tuple[dt.datetime, dt.datetime | None]]]
Notifier = Callable[[Any], None]

_weaning_providers: list[WeaningProvider] = []
_notifiers: list[Notifier] = []

# Modules that may provide hooks; imported lazily and only if installed (the decisions app is optional here).
OPTIONAL_HOOK_MODULES = ("ecmo_web.decisions.surveillance_hooks",)
_optional_loaded = False


def register_weaning_provider(provider: WeaningProvider) -> WeaningProvider:
    if provider not in _weaning_providers:
        _weaning_providers.append(provider)
    return provider


def register_notifier(notifier: Notifier) -> Notifier:
    if notifier not in _notifiers:
        _notifiers.append(notifier)
    return notifier


def _load_optional() -> None:
    global _optional_loaded
    if _optional_loaded:
        return
    _optional_loaded = True
    for name in OPTIONAL_HOOK_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise


def weaning_trials(run: Any) -> list[tuple[dt.datetime, dt.datetime | None]]:
    _load_optional()
    trials: list[tuple[dt.datetime, dt.datetime | None]] = []
    for provider in _weaning_providers:
        trials.extend(provider(run))
    return sorted(trials, key=lambda t: t[0])


def notify(transition: Any) -> None:
    _load_optional()
    if not _notifiers:
        logger.info(
            "alert transition run=%s rule=%s %s→%s at %s",
            transition.run_id,
            transition.rule_id,
            transition.from_status or "—",
            transition.to_status,
            transition.at.isoformat(),
        )
    for notifier in _notifiers:
        notifier(transition)
