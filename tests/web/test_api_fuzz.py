"""The API under generated requests (schemathesis, from ``/api/v1/openapi.json``).

Every operation of the OpenAPI document is called with inputs generated from its schema — valid and invalid —
as a signed-in perfusionist of program North whose run exists, through the real WSGI application:
- no request gets a server error (5xx); bad input is a 4xx naming the field
- every documented response matches its schema, with the content type it declares

CI runs a short form (``ECMO_FUZZ_EXAMPLES``, default 8 per operation); ``make fuzz`` runs many more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from ecmo_web.accounts.models import ApiToken
from ecmo_web.wsgi import application

EXAMPLES = int(os.environ.get("ECMO_FUZZ_EXAMPLES", "8"))

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def token(run: Any, perfusionist: Any) -> Iterator[str]:
    # The WSGI handler closes the database connection at the end of each request, as in production; the test
    # database lives in that connection, so keep it open as Django's own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _, raw = ApiToken.issue(perfusionist, label="fuzz")
        yield raw
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_it_never_answers_a_server_error(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(
        response,
        checks=[
            st_checks.not_a_server_error,
            openapi_checks.response_schema_conformance,
            openapi_checks.content_type_conformance,
        ],
    )
