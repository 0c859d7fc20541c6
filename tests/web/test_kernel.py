"""The action kernel (``ecmo_web.kernel``): what every write shares.

- [x] ``aware``: an aware datetime comes back in UTC; a naive one is refused naming the field (or, given ``tz``,
  taken as wall-clock time there); an ISO 8601 string with an offset or Z is parsed; garbage and non-dates are
  refused naming the field and the accepted form
- [x] ``not_in_future``: up to ``now + slack`` passes (the boundary included); later is refused with the latest
  accepted time in the message
- [x] ``require``: a SystemActor passes any known action; a person goes through ``permissions.can`` (allowed role,
  refused role, outsider, anonymous); an unknown action is a bug for both
- [x] ``audit``: one event naming the person (or the system) in the caller's transaction; it rolls back with
  the write; outside a transaction it refuses
- [x] ``actor_name`` / ``user_of``: username, system name, "system" for anonymous
- [x] ``member`` / ``user_by_id`` / ``user_named`` / ``member_role``: program members only, the field named
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ecmo_web import kernel
from ecmo_web.accounts.models import Program, Role
from ecmo_web.audit.models import AuditEvent
from ecmo_web.permissions import UnknownAction
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0

WORKER = kernel.SystemActor("system:test-worker")


def _message(excinfo: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(excinfo.value.message_dict[field])


# --- aware -------------------------------------------------------------------------------------------------------


def test_it_returns_an_aware_datetime_in_utc() -> None:
    paris = dt.datetime(2026, 11, 20, 11, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    result = kernel.aware(paris, field="at")
    assert result == T0 and result.tzinfo is dt.UTC


def test_it_refuses_a_naive_datetime_naming_the_field() -> None:
    with pytest.raises(ValidationError) as excinfo:
        kernel.aware(dt.datetime(2026, 11, 20, 10, 0), field="started_at")
    assert "must include a time zone (UTC offset or Z)" in _message(excinfo, "started_at")


def test_it_reads_a_naive_datetime_as_wall_clock_time_in_the_given_zone() -> None:
    # 11:00 in Paris in November (CET, UTC+1) is 10:00 UTC.
    result = kernel.aware(dt.datetime(2026, 11, 20, 11, 0), field="at", tz=zoneinfo.ZoneInfo("Europe/Paris"))
    assert result == T0 and result.tzinfo is dt.UTC


@pytest.mark.parametrize(
    "text",
    ["2026-11-20T10:00:00Z", "2026-11-20T10:00:00z", " 2026-11-20T11:00:00+01:00 ", "2026-11-20 10:00Z"],
)
def test_it_parses_an_iso_8601_string_with_an_offset(text: str) -> None:
    assert kernel.aware(text, field="at") == T0


def test_it_refuses_an_iso_string_without_an_offset() -> None:
    with pytest.raises(ValidationError) as excinfo:
        kernel.aware("2026-11-20T10:00:00", field="at")
    assert "must include a time zone" in _message(excinfo, "at")


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-40T10:00Z"])
def test_it_refuses_garbage_naming_the_field_and_the_accepted_form(text: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        kernel.aware(text, field="observed_at")
    assert f"{text!r} is not an ISO 8601 date and time (e.g. 2026-11-20T10:00:00Z)" == _message(
        excinfo, "observed_at"
    )


@pytest.mark.parametrize("value", [None, 3, dt.date(2026, 11, 20)])
def test_it_refuses_what_is_not_a_date_and_time(value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        kernel.aware(value, field="at")
    assert "must be a date and time" in _message(excinfo, "at")


# --- not in the future -----------------------------------------------------------------------------------------


def test_it_accepts_times_up_to_the_clock_skew_ahead_of_now() -> None:
    assert kernel.CLOCK_SKEW == dt.timedelta(minutes=1)
    for value in (T0 - dt.timedelta(days=3), T0, T0 + kernel.CLOCK_SKEW):
        assert kernel.not_in_future(value, field="at", now=T0) == value


def test_it_refuses_a_time_beyond_the_slack_with_the_latest_accepted_time() -> None:
    with pytest.raises(ValidationError) as excinfo:
        kernel.not_in_future(T0 + dt.timedelta(minutes=1, seconds=1), field="at", now=T0)
    assert (
        _message(excinfo, "at") == "cannot be in the future: the latest accepted time is 2026-11-20 10:01 UTC"
    )


def test_it_takes_a_wider_slack_when_asked() -> None:
    later = T0 + dt.timedelta(hours=23)
    assert kernel.not_in_future(later, field="at", now=T0, slack=dt.timedelta(hours=24)) == later
    with pytest.raises(ValidationError):
        kernel.not_in_future(later, field="at", now=T0, slack=dt.timedelta(hours=22))


# --- require -----------------------------------------------------------------------------------------------------


def test_it_lets_a_system_actor_do_any_known_action(run: EcmoRun) -> None:
    kernel.require(WORKER, "alert.acknowledge", run)
    kernel.require(WORKER, "settings.manage", run.program)
    assert kernel.is_system(WORKER)


def test_it_checks_a_person_through_the_permission_matrix(run: EcmoRun, personas: dict[str, Any]) -> None:
    kernel.require(personas[Role.PERFUSIONIST], "run.edit", run)
    assert not kernel.is_system(personas[Role.PERFUSIONIST])
    for refused in (personas[Role.AUDITOR], personas["outsider"], personas["nobody"], AnonymousUser()):
        with pytest.raises(PermissionDenied):
            kernel.require(refused, "run.edit", run)


def test_it_treats_an_unknown_action_as_a_bug_for_people_and_systems(run: EcmoRun, perfusionist: Any) -> None:
    for actor in (WORKER, perfusionist):
        with pytest.raises(UnknownAction):
            kernel.require(actor, "run.teleport", run)


# --- audit -------------------------------------------------------------------------------------------------------


def test_it_writes_the_event_for_a_person_in_the_callers_transaction(run: EcmoRun, perfusionist: Any) -> None:
    with transaction.atomic():
        event = kernel.audit(
            perfusionist, "run.target_set", run, before={"a": 1}, after={"a": 2}, reason="why"
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_name, stored.action) == (
        perfusionist.pk,
        "perfusionist",
        "run.target_set",
    )
    assert (stored.object_type, stored.object_id, stored.program_id) == (
        "runs.ecmorun",
        str(run.pk),
        run.program_id,
    )
    assert (stored.before, stored.after, stored.reason) == ({"a": 1}, {"a": 2}, "why")


def test_it_names_a_system_actor_without_a_user(run: EcmoRun) -> None:
    with transaction.atomic():
        event = kernel.audit(WORKER, "alert.escalated", run)
    assert (event.actor_id, event.actor_name) == (None, "system:test-worker")


def test_it_rolls_the_event_back_with_the_write(program: Program, perfusionist: Any) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError, match="write failed"), transaction.atomic():
        program.name = "Renamed"
        program.save()
        kernel.audit(perfusionist, "settings.manage", program)
        raise RuntimeError("write failed")
    assert AuditEvent.objects.count() == before
    program.refresh_from_db()
    assert program.name == "North"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_audit_outside_a_transaction(program: Program, perfusionist: Any) -> None:
    with pytest.raises(RuntimeError, match="same transaction"):
        kernel.audit(perfusionist, "settings.manage", program)


# --- who ---------------------------------------------------------------------------------------------------------


def test_it_names_actors_and_finds_the_person_behind_them(perfusionist: Any) -> None:
    assert kernel.actor_name(perfusionist) == "perfusionist"
    assert kernel.actor_name(WORKER) == "system:test-worker"
    assert kernel.actor_name(AnonymousUser()) == "system"
    assert kernel.user_of(perfusionist) is perfusionist
    assert kernel.user_of(WORKER) is None
    assert kernel.user_of(AnonymousUser()) is None


def test_it_finds_program_members_by_user_id_or_username(program: Program, personas: dict[str, Any]) -> None:
    nurse = personas[Role.BEDSIDE_NURSE]
    assert kernel.user_by_id(program, nurse.pk, field="user") == nurse
    assert kernel.user_named(program, "bedside_nurse", field="user") == nurse
    assert kernel.member(program, nurse, field="user") == nurse
    assert kernel.member(program.pk, nurse.pk, field="user") == nurse
    assert kernel.member(program, "bedside_nurse", field="user") == nurse
    assert kernel.member_role(program, nurse) == Role.BEDSIDE_NURSE
    assert kernel.member_role(program, AnonymousUser()) is None
    assert kernel.member_role(program, WORKER) is None


@pytest.mark.parametrize("value", ["outsider", "nobody", "no-such-user", 999_999])
def test_it_refuses_someone_who_is_not_a_member(
    program: Program, personas: dict[str, Any], value: Any
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        kernel.member(program, value, field="decided_by")
    assert _message(excinfo, "decided_by") == f"{value} is not a member of this program"


def test_it_refuses_a_user_object_from_another_program(program: Program, personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        kernel.member(program, personas["outsider"], field="user")
