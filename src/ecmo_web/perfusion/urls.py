from __future__ import annotations

from django.urls import path

from ecmo_web.perfusion import views

urlpatterns = [
    path("programs/<int:program_id>/perfusion/", views.home, name="perfusion_home"),
    path("programs/<int:program_id>/perfusion/catalogue/", views.catalogue_page, name="perfusion_catalogue"),
    path("programs/<int:program_id>/perfusion/priming/", views.priming_page, name="perfusion_priming"),
    path("programs/<int:program_id>/perfusion/settings/", views.settings_page, name="perfusion_settings"),
    path("programs/<int:program_id>/perfusion/profile/", views.role_profile_page, name="perfusion_profile"),
    path(
        "programs/<int:program_id>/perfusion/profile/<str:area>/",
        views.role_profile_area,
        name="perfusion_profile_area",
    ),
    path("standby/<int:circuit_id>/close/", views.standby_close, name="standby_close"),
    path("standby/<int:circuit_id>/checklist/", views.standby_checklist, name="standby_checklist"),
    path("standby-notices/<int:notice_id>/acknowledge/", views.notice_acknowledge, name="standby_notice_ack"),
    path("runs/<int:run_id>/circuit-selection/", views.circuit_selection, name="circuit_selection"),
    path("runs/<int:run_id>/priming/", views.run_priming, name="run_priming"),
]
