"""``/health/``: answers ``ok`` when the web process is up (load balancers, container health checks).

It reads nothing and needs no sign-in; ``make bench`` also uses it as the trivial view the pages are measured
against, through the same server and middleware.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")
