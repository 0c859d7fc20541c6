"""What surveillance asks of other apps, through the contribution registry (it imports none of them).

- weaning providers, ``fn(run) -> [(start, end | None), ...]``: weaning trials recorded elsewhere (the decisions
  app records them as decisions of kind "weaning trial"). The pump rule stays quiet during a trial (core-api §4).
- notifiers, ``fn(transition)``: called by the worker (``ecmo surveil``) for every stored alert transition, once;
  e.g. a pager or chat integration. Without one, transitions are logged.
- check hooks, ``fn(check, amended)``: called by ``record_check`` and ``amend_check`` inside their transaction,
  so what a hook writes (an EHR outbox row) commits or rolls back with the check.

An app declares them in its ``AppConfig.contributions()`` (``weaning_providers=``, ``notifiers=``,
``check_hooks=``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from ecmo_web import contributions

logger = logging.getLogger("ecmo.surveillance")

WeaningProvider = Callable[[Any], list[tuple[dt.datetime, dt.datetime | None]]]
Notifier = Callable[[Any], None]
CheckHook = Callable[[Any, bool], object]  # what a hook returns (the EHR outbox rows, say) is not used


def weaning_trials(run: Any) -> list[tuple[dt.datetime, dt.datetime | None]]:
    trials: list[tuple[dt.datetime, dt.datetime | None]] = []
    for provider in contributions.weaning_providers():
        trials.extend(provider(run))
    return sorted(trials, key=lambda t: t[0])


def check_written(check: Any, *, amended: bool) -> None:
    for hook in contributions.check_hooks():
        hook(check, amended)


def notify(transition: Any) -> None:
    notifiers = contributions.notifiers()
    if not notifiers:
        logger.info(
            "alert transition run=%s rule=%s %s→%s at %s",
            transition.run_id,
            transition.rule_id,
            transition.from_status or "—",
            transition.to_status,
            transition.at.isoformat(),
        )
    for notifier in notifiers:
        notifier(transition)
