from __future__ import annotations

from django.urls import path

from ecmo_web.calculators import views

urlpatterns = [
    path("programs/<int:program_id>/calculators/", views.program_calculators, name="program_calculators"),
    path(
        "programs/<int:program_id>/calculators/<str:name>/",
        views.program_calculator,
        name="program_calculator",
    ),
    path("runs/<int:run_id>/calculators/", views.run_calculators, name="run_calculators"),
    path("runs/<int:run_id>/calculators/<str:name>/", views.run_calculator, name="run_calculator"),
]
