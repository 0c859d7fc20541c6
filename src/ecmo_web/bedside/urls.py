from __future__ import annotations

from django.urls import path

from ecmo_web.bedside import views

urlpatterns = [
    path("runs/<int:run_id>/live/circuit/", views.circuit_now, name="bedside_circuit_now"),
    path("live/alerts/", views.alert_badge, name="bedside_alert_badge"),
]
