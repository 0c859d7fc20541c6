from __future__ import annotations

from django.urls import path

from ecmo_web.governance import views

urlpatterns = [
    path("programs/<int:program_id>/governance/", views.home, name="governance_home"),
    path("programs/<int:program_id>/qi/new/", views.project_new, name="qi_project_new"),
    path("qi/<int:project_id>/", views.project_page, name="qi_project"),
    path("qi/<int:project_id>/measures/", views.measure_add, name="qi_measure_add"),
    path("qi/<int:project_id>/cycles/", views.cycle_add, name="qi_cycle_add"),
    path("qi-measures/<int:measure_id>/points/", views.point_add, name="qi_point_add"),
    path("pdsa/<int:cycle_id>/conclude/", views.cycle_conclude, name="qi_cycle_conclude"),
    path("programs/<int:program_id>/policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:policy_id>/", views.policy_page, name="policy_page"),
    path("policies/<int:policy_id>/versions/", views.version_add, name="policy_version_add"),
    path("policy-versions/<int:version_id>/signoff/", views.version_signoff, name="policy_signoff"),
    path("decisions/<int:decision_id>/policies/", views.decision_link, name="decision_policy_link"),
    path("programs/<int:program_id>/education/", views.education_page, name="education_page"),
    path("programs/<int:program_id>/education/sessions/", views.session_add, name="education_session_add"),
    path("programs/<int:program_id>/education/competencies/", views.competency_add, name="competency_add"),
    path("programs/<int:program_id>/education/awards/", views.award_add, name="competency_award_add"),
    path("programs/<int:program_id>/shifts/", views.shifts_page, name="shifts_page"),
    path("shifts/<int:shift_id>/", views.shift_page, name="shift_page"),
]
