"""Every write to decisions, sessions, checklists, trials, transports, ambulation and MCS checks.

Each action checks permission with ``require``, validates (``ValidationError({field: message})``), writes and
appends an audit event in the same transaction. Views and the API call these and nothing else.

Who may do what: recording or deciding a decision needs ``decision.record``; the running record of a pathway
(checklist ticks, trial observations, transport legs and events, ambulation sessions) needs
``pathway.record``, which bedside nurses and physiotherapists hold too; MCS checks need ``mcs.edit``; the
program's criteria settings need ``settings.manage``.
"""

from ecmo_web.decisions.actions.ambulation import record_ambulation_session
from ecmo_web.decisions.actions.calculations import attach_calculation, save_calculation
from ecmo_web.decisions.actions.checklists import checklist_status, complete_checklist, mark_checklist_item
from ecmo_web.decisions.actions.common import BEFORE_RUN_LIMIT, core_version
from ecmo_web.decisions.actions.criteria import set_criteria
from ecmo_web.decisions.actions.mcs import record_mcs_check
from ecmo_web.decisions.actions.records import (
    add_dissent,
    add_participant,
    decide,
    record_decision,
    resolve_dissent,
)
from ecmo_web.decisions.actions.sessions import add_session_attendee, create_session
from ecmo_web.decisions.actions.transport import (
    add_transport_event,
    add_transport_leg,
    record_leg_times,
    transport_supplies,
)
from ecmo_web.decisions.actions.trials import (
    conclude_trial,
    evaluate_trial,
    record_observation,
    trial_observations,
)

__all__ = [
    "BEFORE_RUN_LIMIT",
    "add_dissent",
    "add_participant",
    "add_session_attendee",
    "add_transport_event",
    "add_transport_leg",
    "attach_calculation",
    "checklist_status",
    "complete_checklist",
    "conclude_trial",
    "core_version",
    "create_session",
    "decide",
    "evaluate_trial",
    "mark_checklist_item",
    "record_ambulation_session",
    "record_decision",
    "record_leg_times",
    "record_mcs_check",
    "record_observation",
    "resolve_dissent",
    "save_calculation",
    "set_criteria",
    "transport_supplies",
    "trial_observations",
]
