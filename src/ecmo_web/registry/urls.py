from __future__ import annotations

from django.urls import path

from ecmo_web.registry import smart, views

urlpatterns = [
    path("programs/<int:program_id>/exports/", views.exports_page, name="registry_exports"),
    path("programs/<int:program_id>/exports/start/", views.start_export, name="registry_export_start"),
    path("programs/<int:program_id>/exports/jobs/", views.jobs_partial, name="registry_jobs"),
    path("programs/<int:program_id>/research/", views.research_page, name="registry_research"),
    path("export-jobs/<int:job_id>/download/", views.download, name="registry_download"),
    path("export-jobs/<int:job_id>/submitted/", views.submit, name="registry_submit"),
    path("programs/<int:program_id>/studies/", views.study_list, name="study_list"),
    path("studies/<int:study_id>/", views.study_detail, name="study_detail"),
    path("studies/<int:study_id>/contributors/", views.add_contributor, name="study_contributor_add"),
    path("studies/<int:study_id>/outputs/", views.add_output, name="study_output_add"),
    path("studies/<int:study_id>/enrol/", views.enrol, name="study_enrol"),
    path("smart/launch", smart.launch, name="smart_launch"),
    path("smart/callback", smart.callback, name="smart_callback"),
]
