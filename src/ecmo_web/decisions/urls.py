from __future__ import annotations

from django.urls import path

from ecmo_web.decisions import views

urlpatterns = [
    path("runs/<int:run_id>/decisions/", views.decision_list, name="decision_list"),
    path("runs/<int:run_id>/decisions/new/", views.decision_new, name="decision_new"),
    path("runs/<int:run_id>/decisions/new/<str:kind>/", views.decision_new, name="decision_new_kind"),
    path(
        "runs/<int:run_id>/decisions/participant-row/", views.participant_row, name="decision_participant_row"
    ),
    path("decisions/<int:decision_id>/", views.decision_detail, name="decision_detail"),
    path("decisions/<int:decision_id>/decide/", views.decision_decide, name="decision_decide"),
    path(
        "decisions/<int:decision_id>/participants/",
        views.decision_add_participant,
        name="decision_participant",
    ),
    path("decisions/<int:decision_id>/dissent/", views.decision_add_dissent, name="decision_dissent"),
    path("dissent/<int:dissent_id>/resolve/", views.dissent_resolve, name="dissent_resolve"),
    path("decisions/<int:decision_id>/checklist/", views.decision_checklist, name="decision_checklist"),
    path("checklist-items/<int:item_id>/", views.checklist_mark, name="checklist_mark"),
    path(
        "decisions/<int:decision_id>/checklist/complete/", views.checklist_complete, name="checklist_complete"
    ),
    path("decisions/<int:decision_id>/trial/", views.decision_trial, name="decision_trial"),
    path("decisions/<int:decision_id>/trial/observe/", views.trial_observe, name="trial_observe"),
    path("decisions/<int:decision_id>/trial/preview/", views.trial_preview, name="trial_preview"),
    path("decisions/<int:decision_id>/trial/conclude/", views.trial_conclude, name="trial_conclude"),
    path("decisions/<int:decision_id>/transport/", views.decision_transport, name="decision_transport"),
    path("decisions/<int:decision_id>/transport/legs/", views.transport_leg, name="transport_leg"),
    path("transport-legs/<int:leg_id>/times/", views.transport_leg_times, name="transport_leg_times"),
    path("decisions/<int:decision_id>/transport/events/", views.transport_event, name="transport_event"),
    path("decisions/<int:decision_id>/ambulation/", views.decision_ambulation, name="decision_ambulation"),
    path(
        "decisions/<int:decision_id>/ambulation/sessions/",
        views.ambulation_session,
        name="ambulation_session",
    ),
    path("mcs-devices/<int:device_id>/", views.mcs_device, name="mcs_device"),
    path("programs/<int:program_id>/decision-sessions/new/", views.session_new, name="decision_session_new"),
    path("decision-sessions/<int:session_id>/", views.session_detail, name="decision_session"),
    path("programs/<int:program_id>/pathway-criteria/", views.criteria_page, name="pathway_criteria"),
]
