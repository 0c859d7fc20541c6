from __future__ import annotations

from django.urls import path

from ecmo_web.rounds import views

urlpatterns = [
    path("programs/<int:program_id>/rounds/", views.board_today, name="rounds_board_today"),
    path("programs/<int:program_id>/rounds/<str:date>/", views.board_page, name="rounds_board"),
    path("programs/<int:program_id>/rounds/<str:date>/handover/", views.handover, name="rounds_handover"),
    path("programs/<int:program_id>/rounds/<str:date>/start/", views.start, name="rounds_start"),
    path("rounds-sessions/<int:session_id>/attendance/", views.attendance, name="rounds_attendance"),
    path(
        "rounds-entries/<int:entry_id>/sections/<str:discipline>/", views.write_section, name="rounds_section"
    ),
    path("rounds-entries/<int:entry_id>/sections/", views.write_section_any, name="rounds_section_any"),
    path("rounds-entries/<int:entry_id>/refresh/", views.refresh, name="rounds_refresh"),
    path("rounds-entries/<int:entry_id>/goals/", views.add_goal, name="rounds_goal_add"),
    path("rounds-goals/<int:goal_id>/tick/<int:session_id>/", views.tick_goal, name="rounds_goal_tick"),
]
