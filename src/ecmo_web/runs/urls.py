"""URLs of runs: the program's run list, the run page and its forms (included at the site root)."""

from __future__ import annotations

from django.urls import path

from ecmo_web.runs import views as run_views

urlpatterns = [
    path("programs/<int:program_id>/runs/", run_views.run_list, name="run_list"),
    path("programs/<int:program_id>/runs/start/", run_views.start_run, name="start_run"),
    path("runs/<int:run_id>/", run_views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/end/", run_views.end_run, name="end_run"),
    path("runs/<int:run_id>/discharge/", run_views.record_discharge, name="record_discharge"),
    path("runs/<int:run_id>/configuration/", run_views.change_configuration, name="change_configuration"),
    path("runs/<int:run_id>/cannulas/add/", run_views.add_cannula, name="add_cannula"),
    path("runs/<int:run_id>/components/add/", run_views.install_component, name="install_component"),
    path("runs/<int:run_id>/mcs/add/", run_views.add_mcs_device, name="add_mcs_device"),
    path("runs/<int:run_id>/mcs/setting/", run_views.record_mcs_setting, name="record_mcs_setting"),
]
