"""Personas and fixtures for the web tests.

One user per role in program "North" (alice the perfusionist, and so on), plus ``outsider``, a perfusionist of
program "South". Clients enforce CSRF like a browser would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from tests.web import audit_guard

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def program(db: Any) -> Program:
    return Program.objects.create(name="North", time_zone="Europe/London")


@pytest.fixture
def other_program(db: Any) -> Program:
    return Program.objects.create(name="South", time_zone="Europe/Paris")


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    def make(username: str, role: str | None = None, program: Program | None = None) -> Any:
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        if role is not None and program is not None:
            with audit_guard.unaudited():  # personas are set up by hand, not through the admin
                Membership.objects.create(user=user, program=program, role=role)
        return user

    return make


@pytest.fixture
def personas(program: Program, other_program: Program, make_user: Callable[..., Any]) -> dict[str, Any]:
    users = {role: make_user(role, role, program) for role in Role.values}
    users["outsider"] = make_user("outsider", Role.PERFUSIONIST, other_program)
    users["nobody"] = make_user("nobody")
    return users


@pytest.fixture
def perfusionist(personas: dict[str, Any]) -> Any:
    return personas[Role.PERFUSIONIST]


@pytest.fixture
def run(program: Program, perfusionist: Any) -> EcmoRun:
    return actions.start_run(
        actor=perfusionist,
        program=program,
        patient_code="TEST-0001",
        sex="male",
        birth_year=1970,
        indication="respiratory",
        indication_detail="ARDS",
        mode="vv",
        started_at=T0,
        weight_kg=80,
        height_cm=180,
        identifiers={"name": "Test Patient", "mrn": "TEST-MRN-1"},
    )


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def login(user: Any) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 is deliberately slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_idle_sign_out(settings: Any) -> None:
    # Tests travel hours ahead between requests of one client; the idle sign-out has its own tests
    # (test_security.py), which set the timeout they test.
    settings.ECMO_IDLE_SECONDS = 10**9


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Sign-in throttling counts live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _every_write_is_audited(request: Any) -> Any:
    """Fail a test in which a program-scoped model is written outside an action, or by an action that wrote no
    audit event (tests/web/audit_guard.py). Opt out with ``audit_guard.unaudited()`` or the ``unaudited``
    fixture."""
    names = set(request.fixturenames)
    if "db" not in names or names & {"transactional_db", "live_server", "django_db_reset_sequences"}:
        yield
        return
    request.getfixturevalue("db")
    with audit_guard.guarding() as guard:
        yield
    problems = guard.problems() if guard is not None else []
    if problems:
        pytest.fail("writes without an audit event:\n" + "\n".join(problems[:5]), pytrace=False)


@pytest.fixture
def unaudited() -> Any:
    """This test writes program data by hand on purpose (e.g. corrupting a row to test a failure path)."""
    with audit_guard.unaudited():
        yield
