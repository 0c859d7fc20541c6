"""Every write in the quality app, one module per concern: adverse events, M&M cases, clinical audits."""

from __future__ import annotations

from ecmo_web.quality.actions.adverse_events import record_adverse_event
from ecmo_web.quality.actions.audits import define_audit, run_audit
from ecmo_web.quality.actions.mm import (
    add_action,
    add_contribution,
    add_factor,
    close_action,
    open_case,
    update_case,
)

__all__ = [
    "add_action",
    "add_contribution",
    "add_factor",
    "close_action",
    "define_audit",
    "open_case",
    "record_adverse_event",
    "run_audit",
    "update_case",
]
