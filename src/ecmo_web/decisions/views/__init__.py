"""Decision pages: the run's decisions, a form per kind, a decision with its people, and the pathway pages that
run after a decision (weaning trial, checklist, transport, ambulation), MCS device checks, decision sessions and
the program's pathway criteria. Views load with ``get_checked``, call actions, and render."""

from ecmo_web.decisions.views.ambulation import ambulation_session, decision_ambulation
from ecmo_web.decisions.views.checklists import checklist_complete, checklist_mark, decision_checklist
from ecmo_web.decisions.views.criteria import criteria_page
from ecmo_web.decisions.views.mcs import mcs_device
from ecmo_web.decisions.views.records import (
    decision_add_dissent,
    decision_add_participant,
    decision_decide,
    decision_detail,
    decision_list,
    decision_new,
    dissent_resolve,
    participant_row,
)
from ecmo_web.decisions.views.sessions import session_detail, session_new
from ecmo_web.decisions.views.transport import (
    decision_transport,
    transport_event,
    transport_leg,
    transport_leg_times,
)
from ecmo_web.decisions.views.trials import decision_trial, trial_conclude, trial_observe, trial_preview

__all__ = [
    "ambulation_session",
    "checklist_complete",
    "checklist_mark",
    "criteria_page",
    "decision_add_dissent",
    "decision_add_participant",
    "decision_ambulation",
    "decision_checklist",
    "decision_decide",
    "decision_detail",
    "decision_list",
    "decision_new",
    "decision_transport",
    "decision_trial",
    "dissent_resolve",
    "mcs_device",
    "participant_row",
    "session_detail",
    "session_new",
    "transport_event",
    "transport_leg",
    "transport_leg_times",
    "trial_conclude",
    "trial_observe",
    "trial_preview",
]
