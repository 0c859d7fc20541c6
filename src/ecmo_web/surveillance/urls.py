"""URLs of circuit surveillance (included at the site root: ``SurveillanceConfig.contributions``)."""

from __future__ import annotations

from django.urls import path

from ecmo_web.surveillance import hl7_views, views

urlpatterns = [
    path("runs/<int:run_id>/checks/", views.check_list, name="surveillance_checks"),
    path("runs/<int:run_id>/checks/new/", views.check_new, name="surveillance_check_new"),
    path("checks/<int:check_id>/amend/", views.check_amend, name="surveillance_check_amend"),
    path("runs/<int:run_id>/labs/new/", views.labs_new, name="surveillance_labs_new"),
    path("runs/<int:run_id>/import/", views.csv_import, name="surveillance_csv_import"),
    path("runs/<int:run_id>/alerts/", views.run_alerts, name="surveillance_run_alerts"),
    path("runs/<int:run_id>/trends/", views.trends, name="surveillance_trends"),
    path("runs/<int:run_id>/trends/data.json", views.trends_data, name="surveillance_trends_data"),
    path("runs/<int:run_id>/flowsheet/", views.flowsheet_page, name="surveillance_flowsheet"),
    path(
        "alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="surveillance_alert_acknowledge"
    ),
    path("alerts/<int:alert_id>/escalate/", views.alert_escalate, name="surveillance_alert_escalate"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="surveillance_alert_resolve"),
    path("programs/<int:program_id>/alerts/", views.program_alerts, name="surveillance_program_alerts"),
    path(
        "programs/<int:program_id>/surveillance/settings/", views.settings_page, name="surveillance_settings"
    ),
    path("programs/<int:program_id>/hl7/messages/", hl7_views.inbound_messages, name="hl7_inbound_messages"),
    path("hl7/dead-letters/<int:letter_id>/reprocess/", hl7_views.reprocess, name="hl7_reprocess"),
]
