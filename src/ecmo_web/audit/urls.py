from __future__ import annotations

from django.urls import path

from ecmo_web.audit import views

urlpatterns = [
    path("programs/<int:program_id>/audit-trail/", views.audit_trail, name="audit_trail"),
]
