from __future__ import annotations

from django.urls import path

from ecmo_web.quality import views

urlpatterns = [
    path("programs/<int:program_id>/adverse-events/", views.events, name="quality_events"),
    path("programs/<int:program_id>/adverse-events/lots/", views.lot_search, name="quality_lot_search"),
    path("runs/<int:run_id>/adverse-events/new/", views.record_event, name="quality_record_event"),
    path("adverse-events/<int:event_id>/", views.event_detail, name="quality_event_detail"),
    path("programs/<int:program_id>/mm-cases/", views.mm_cases, name="quality_mm_cases"),
    path("programs/<int:program_id>/mm-cases/new/", views.mm_new, name="quality_mm_new"),
    path("mm-cases/<int:case_id>/", views.mm_case, name="quality_mm_case"),
    path("mm-cases/<int:case_id>/packet.pdf", views.mm_packet, name="quality_mm_packet"),
    path("mm-cases/<int:case_id>/discussion/", views.mm_discussion, name="quality_mm_discussion"),
    path("mm-cases/<int:case_id>/input/", views.mm_contribute, name="quality_mm_contribute"),
    path("mm-cases/<int:case_id>/factors/", views.mm_factor, name="quality_mm_factor"),
    path("mm-cases/<int:case_id>/actions/", views.mm_action, name="quality_mm_action"),
    path("mm-cases/<int:case_id>/status/", views.mm_status, name="quality_mm_status"),
    path("mm-actions/<int:action_id>/close/", views.mm_action_close, name="quality_mm_action_close"),
    path("programs/<int:program_id>/quality/", views.dashboard, name="quality_dashboard"),
    path("programs/<int:program_id>/audits/", views.audits, name="quality_audits"),
    path("audits/<int:audit_id>/", views.audit_detail, name="quality_audit"),
]
