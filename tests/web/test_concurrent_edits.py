"""Two people amending the same record at once never lose an update (issue 15 §3).

Each record people edit carries a version; the edit form (hidden ``version``) or API body carries the version the
editor read; the action locks the row and refuses a stale version with ``kernel.VersionConflict``, naming who
changed it, when (program time) and their values; nothing of the second edit is written.

- [x] ``kernel.expect_version``: no version sent passes; the same passes; a stale one is refused with who, when
  and what they wrote; a non-number is refused naming the field
- [x] hourly check: a second amendment of the same version, by form (shown on the form with the other person's
  values, the original kept) and by API (409 naming the field); nothing overwritten
- [x] decision: two "decided" from the same version: the second refused by form and by API (409), the targets
  applied once; weaning trial conclusion and checklist completion carry the version too
- [x] rounds section: two edits from the same version, and two first writes of an unwritten section
- [x] M&M case discussion and status; PDSA cycle conclusion
- [x] settings kept as history (surveillance, perfusion, pathway criteria): a change based on settings someone
  replaced meanwhile is refused (``kernel.expect_latest``); the settings page carries what it was based on
- [x] after a conflict the form carries the version now stored, so the editor can apply theirs again
- [x] on PostgreSQL, two threads on two connections amending the same check / deciding the same decision at
  the same moment: exactly one wins, the other is refused, one new version stored
- [x] component replacement: the form carries the components in place; a second replacement of the same
  oxygenator is refused naming who and what is in place now (by form, and on PostgreSQL by two threads at once)
- [x] M&M action: a second close (from a page opened before the first) is refused, saying who closed it and how
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from ecmo_web import kernel
from ecmo_web.decisions import actions as decision_actions
from ecmo_web.decisions.models import Decision
from ecmo_web.governance.actions import qi
from ecmo_web.governance.models import PdsaCycle
from ecmo_web.quality import actions as quality_actions
from ecmo_web.quality.models import MmAction, MmCase
from ecmo_web.rounds import actions as rounds_actions
from ecmo_web.rounds.models import RoundsSection
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import Component, EcmoRun, RunTarget
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import CircuitCheck
from tests.web.conftest import T0
from tests.web.governance_support import TODAY, make_project
from tests.web.surveil_support import post_form, post_json
from tests.web.test_check_form import NOW, _form

OVERRIDE = {"lateral_s_prime_cm_s": {"op": ">", "value": 10}}
ON_POSTGRES = connection.vendor == "postgresql" or os.environ.get("DATABASE_URL", "").startswith("postgres")


def _check(run: EcmoRun, perfusionist: Any) -> CircuitCheck:
    return actions.record_check(
        actor=perfusionist,
        run=run,
        observed_at=NOW,
        data={"pump_speed_rpm": 3250, "blood_flow_l_min": 4.4, "access_pressure_mmhg": -35},
        now=NOW + dt.timedelta(minutes=1),
    )


def _amend(check: CircuitCheck, actor: Any, access: float, **kwargs: Any) -> CircuitCheck:
    return actions.amend_check(
        actor=actor,
        check=check,
        reason="misread",
        data={"pump_speed_rpm": 3250, "blood_flow_l_min": 4.4, "access_pressure_mmhg": access},
        now=NOW + dt.timedelta(minutes=5),
        **kwargs,
    )


def _decision(run: EcmoRun, personas: dict[str, Any], kind: str = "anticoagulation") -> Decision:
    content = (
        {"agent": "ufh", "test": "anti_xa_iu_ml", "low": 0.3, "high": 0.5, "apply_target": True}
        if kind == "anticoagulation"
        else {"mode": "vv", "rationale": "lungs only"}
    )
    return decision_actions.record_decision(
        actor=personas["perfusionist"], run=run, kind=kind, title="Target", made_at=T0, content=content
    )


# --- the kernel ----------------------------------------------------------------------------------------------


def test_it_lets_a_write_through_without_a_version_or_with_the_current_one(
    run: EcmoRun, personas: dict[str, Any]
) -> None:
    decision = _decision(run, personas)
    kernel.expect_version(decision, None)
    kernel.expect_version(decision, "")
    kernel.expect_version(decision, decision.version)
    kernel.expect_version(decision, str(decision.version))


def test_it_refuses_a_version_that_is_not_a_whole_number(run: EcmoRun, personas: dict[str, Any]) -> None:
    decision = _decision(run, personas)
    for bad in ("abc", 1.5, True, [1]):
        with pytest.raises(ValidationError) as err:
            kernel.expect_version(decision, bad)
        assert not isinstance(err.value, kernel.VersionConflict)
        assert "whole-number version" in " ".join(err.value.message_dict["version"])


def test_a_stale_version_names_who_when_and_their_values(run: EcmoRun, personas: dict[str, Any]) -> None:
    case = quality_actions.open_case(actor=personas["quality"], run=run, title="Air", now=T0)
    with time_machine.travel(
        dt.datetime(2026, 7, 1, 9, 7, tzinfo=dt.UTC), tick=False
    ):  # 10:07 in London (BST)
        quality_actions.update_case(
            actor=personas["director"], case=case, discussion="Clamp first", version=1
        )
    with pytest.raises(kernel.VersionConflict) as err:
        kernel.expect_version(MmCase.objects.get(), 1)
    message = " ".join(err.value.message_dict["version"])
    assert message.startswith(
        "director changed this at 10:07 while you were editing; your changes were not saved"
    )
    assert "review theirs and apply yours again" in message
    assert "Their values: discussion: Clamp first." in message
    assert (err.value.field, err.value.current) == ("version", 2)


# --- hourly checks -------------------------------------------------------------------------------------------


def test_two_amendments_of_the_same_check_keep_the_first_and_refuse_the_second(
    run: EcmoRun, personas: dict[str, Any]
) -> None:
    original = _check(run, personas["perfusionist"])
    first = _amend(original, personas["perfusionist"], -40, version=1)
    with pytest.raises(kernel.VersionConflict) as err:
        _amend(original, personas["ecmo_specialist"], -60, version=1)
    assert "perfusionist changed this" in str(err.value) and "access pressure mmhg: -40" in str(err.value)
    assert list(CircuitCheck.objects.order_by("version").values_list("version", "is_current")) == [
        (1, False),
        (2, True),
    ]
    assert CircuitCheck.objects.get(is_current=True).pk == first.pk
    with pytest.raises(kernel.VersionConflict):  # the right row but a stale version in the body
        _amend(first, personas["ecmo_specialist"], -60, version=1)


def test_the_amend_form_shows_the_conflict_with_their_values_and_saves_nothing(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    alice, bob = client_for(personas["perfusionist"]), client_for(personas["ecmo_specialist"])
    original = _check(run, personas["perfusionist"])
    url = f"/checks/{original.pk}/amend/"
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert bob.get(url).status_code == 200  # Bob opens the form on version 1
        done = post_form(alice, url, _form(access_pressure_mmhg="-40", reason="misread"))
        assert done.status_code == 302
        late = post_form(bob, url, _form(access_pressure_mmhg="-60", reason="typo"))
    page = late.content.decode()
    assert late.status_code == 400
    assert "perfusionist changed this at" in page and "your changes were not saved" in page
    assert "access pressure mmhg: -40" in page
    current = CircuitCheck.objects.get(is_current=True)
    assert f'action="/checks/{current.pk}/amend/"' in page  # submitting again amends the version now stored
    assert list(
        CircuitCheck.objects.filter(is_current=True).values_list("access_pressure_mmhg", flat=True)
    ) == [-40]
    assert CircuitCheck.objects.count() == 2


def test_the_check_api_answers_409_naming_the_field(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    original = _check(run, personas["perfusionist"])
    body = {
        "observed_at": NOW.isoformat(),
        "pump_speed_rpm": 3250,
        "blood_flow_l_min": 4.4,
        "reason": "misread",
        "version": 1,
    }
    api = client_for(personas["perfusionist"])
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert post_json(api, f"/api/v1/checks/{original.pk}/amend", body).status_code == 201
        again = post_json(api, f"/api/v1/checks/{original.pk}/amend", {**body, "pump_speed_rpm": 3000})
    assert again.status_code == 409
    assert again.json()["field"] == "version" and again.json()["current_version"] == 2
    assert "your changes were not saved" in again.json()["detail"]["version"][0]
    assert CircuitCheck.objects.filter(pump_speed_rpm=3000).count() == 0


# --- decisions -----------------------------------------------------------------------------------------------


def test_two_people_deciding_the_same_decision_apply_it_once(run: EcmoRun, personas: dict[str, Any]) -> None:
    decision = _decision(run, personas)
    stale = Decision.objects.get(pk=decision.pk)
    decision_actions.decide(
        actor=personas["intensivist"],
        decision=decision,
        decided_by=personas["intensivist"],
        decided_at=T0,
        version=1,
    )
    with pytest.raises(kernel.VersionConflict) as err:
        decision_actions.decide(
            actor=personas["director"],
            decision=stale,
            decided_by=personas["director"],
            decided_at=T0,
            recommendation="something else",
            version=1,
        )
    assert "intensivist changed this" in str(err.value)
    decision.refresh_from_db()
    assert (decision.decided_by, decision.recommendation, decision.version) == (
        personas["intensivist"],
        "",
        2,
    )
    assert RunTarget.objects.filter(run=run, parameter="anti_xa_iu_ml").count() == 1


def test_the_decide_form_carries_the_version_and_shows_the_conflict(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    decision = _decision(run, personas, kind="modality")
    alice, bob = client_for(personas["intensivist"]), client_for(personas["director"])
    page = bob.get(f"/decisions/{decision.pk}/").content.decode()
    assert 'name="version" value="1"' in page
    form = {"decided_at": "2026-11-20T10:05", "recommendation": "", "version": "1"}
    url = f"/decisions/{decision.pk}/decide/"
    assert post_form(alice, url, {**form, "decided_by": personas["intensivist"].pk}).status_code == 302
    late = post_form(bob, url, {**form, "decided_by": personas["director"].pk, "recommendation": "V-A"})
    html = late.content.decode()
    assert late.status_code == 400 and "intensivist changed this at" in html and "not saved" in html
    assert 'name="version" value="2"' in html  # apply yours again: the form now carries the stored version
    decision.refresh_from_db()
    assert (decision.decided_by, decision.recommendation) == (personas["intensivist"], "")


def test_the_decide_api_answers_409(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> None:
    decision = _decision(run, personas, kind="modality")
    api = client_for(personas["intensivist"])
    got = api.get(f"/api/v1/decisions/{decision.pk}").json()
    assert got["version"] == 1
    body = {"decided_by": personas["intensivist"].pk, "decided_at": T0.isoformat(), "version": 1}
    assert post_json(api, f"/api/v1/decisions/{decision.pk}/decide", body).status_code == 200
    again = post_json(api, f"/api/v1/decisions/{decision.pk}/decide", body)
    assert again.status_code == 409 and again.json()["field"] == "version"


def test_trial_conclusion_and_checklist_completion_refuse_a_stale_version(
    run: EcmoRun, personas: dict[str, Any]
) -> None:
    trial = decision_actions.record_decision(
        actor=personas["intensivist"],
        run=run,
        kind="weaning_trial",
        title="Sweep-off trial",
        made_at=T0,
        decided_by=personas["intensivist"],
        content={"trial_type": "vv_sweep_off", "started_at": T0.isoformat()},
    )
    trial_version = trial.version
    decision_actions.add_participant(
        actor=personas["intensivist"], decision=trial, user=personas["perfusionist"]
    )
    with pytest.raises(kernel.VersionConflict):
        decision_actions.conclude_trial(
            actor=personas["intensivist"],
            decision=trial,
            outcome="abandoned",
            concluded_at=T0 + dt.timedelta(minutes=30),
            reason="patient agitated",
            version=trial_version - 1,
        )
    assert Decision.objects.get(pk=trial.pk).completed_at is None
    decannulation = _decision(run, personas, kind="modality")
    with pytest.raises(kernel.VersionConflict):
        decision_actions.complete_checklist(
            actor=personas["perfusionist"],
            decision=decannulation,
            completed_at=T0,
            version=decannulation.version + 1,
        )


# --- rounds, M&M, QI -----------------------------------------------------------------------------------------


def _entry(run: EcmoRun, personas: dict[str, Any]) -> Any:
    at = dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.UTC)
    session = rounds_actions.start_session(
        actor=personas["director"], program=run.program, date=at.date(), started_at=at, now=at
    )
    return session.entries.get()


def test_two_edits_of_a_rounds_section_from_the_same_version(run: EcmoRun, personas: dict[str, Any]) -> None:
    entry = _entry(run, personas)
    first = rounds_actions.write_section(
        actor=personas["intensivist"], entry=entry, discipline="medical", text="Lungs better", version=0
    )
    with pytest.raises(kernel.VersionConflict) as err:  # both opened the unwritten section
        rounds_actions.write_section(
            actor=personas["cardiologist"], entry=entry, discipline="medical", text="RV poor", version=0
        )
    assert "text: Lungs better" in str(err.value) and "entry id" not in str(err.value)
    rounds_actions.write_section(
        actor=personas["intensivist"], entry=entry, discipline="medical", text="Lungs much better", version=1
    )
    with pytest.raises(kernel.VersionConflict):
        rounds_actions.write_section(
            actor=personas["cardiologist"],
            entry=entry,
            discipline="medical",
            text="RV poor",
            reason="echo",
            version=first.version,
        )
    section = RoundsSection.objects.get()
    assert (section.text, section.version, len(section.history)) == ("Lungs much better", 2, 1)


def test_the_rounds_form_carries_the_version_and_shows_the_conflict(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    entry = _entry(run, personas)
    board = f"/programs/{run.program_id}/rounds/2026-11-21/"
    doctor = client_for(personas["intensivist"])
    assert 'name="version" value="0"' in doctor.get(board).content.decode()
    url = f"/rounds-entries/{entry.pk}/sections/medical/"
    assert post_form(doctor, url, {"text": "Lungs better", "version": "0"}).status_code == 302
    cardiologist = client_for(personas["cardiologist"])
    late = post_form(cardiologist, url, {"text": "RV poor", "version": "0"})
    assert late.status_code == 302
    assert RoundsSection.objects.get().text == "Lungs better"
    html = cardiologist.get(board).content.decode()
    assert "intensivist changed this at" in html and 'name="version" value="1"' in html


def test_two_edits_of_an_mm_case(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> None:
    case = quality_actions.open_case(actor=personas["quality"], run=run, title="Air", now=T0)
    url = f"/mm-cases/{case.pk}/discussion/"
    quality, director = client_for(personas["quality"]), client_for(personas["director"])
    assert 'name="version" value="1"' in director.get(f"/mm-cases/{case.pk}/").content.decode()
    assert post_form(quality, url, {"discussion": "Clamp first", "version": "1"}).status_code == 302
    late = post_form(director, url, {"discussion": "Check the pigtail", "version": "1"})
    assert late.status_code == 400 and "quality changed this at" in late.content.decode()
    assert MmCase.objects.get().discussion == "Clamp first"
    stale_close = post_form(director, f"/mm-cases/{case.pk}/status/", {"status": "closed", "version": "1"})
    assert stale_close.status_code == 302 and MmCase.objects.get().status == "open"


def test_two_conclusions_of_a_pdsa_cycle(personas: dict[str, Any], program: Any) -> None:
    project = make_project(personas, program)
    cycle = qi.record_cycle(
        actor=personas["perfusionist"], project=project, change="Prompt", plan="+5", started_on=TODAY
    )
    qi.conclude_cycle(
        actor=personas["perfusionist"], cycle=cycle, ended_on=TODAY, study="+7", act="adopt", version=1
    )
    with pytest.raises(kernel.VersionConflict):
        qi.conclude_cycle(
            actor=personas["bedside_nurse"],
            cycle=PdsaCycle.objects.get(),
            ended_on=TODAY,
            study="+2",
            act="abandon",
            version=1,
        )
    assert (PdsaCycle.objects.get().study, PdsaCycle.objects.get().act) == ("+7", "adopt")


# --- settings kept as history ----------------------------------------------------------------------------------


def test_settings_changes_based_on_replaced_settings_are_refused(
    program: Any, personas: dict[str, Any]
) -> None:
    from ecmo_web.decisions.actions import set_criteria
    from ecmo_web.perfusion.actions.settings import set_settings
    from ecmo_web.perfusion.models import PerfusionSettings
    from ecmo_web.surveillance.models import SurveillanceSetting

    director = personas["director"]
    first = actions.save_settings(actor=director, program=program, rules={}, reason="site policy", based_on=0)
    with pytest.raises(kernel.VersionConflict) as err:
        actions.save_settings(
            actor=personas["admin"],
            program=program,
            rules={},
            reason="mine",
            escalate_critical_after_min=5,
            based_on=0,
        )
    assert "director changed this" in str(err.value) and err.value.field == "based_on"
    actions.save_settings(actor=director, program=program, rules={}, reason="again", based_on=first.pk)
    assert SurveillanceSetting.objects.filter(program=program).count() == 2
    row = set_settings(actor=director, program=program, values={}, reason="policy", based_on=0)
    with pytest.raises(kernel.VersionConflict):
        set_settings(actor=personas["admin"], program=program, values={}, reason="mine", based_on=0)
    set_settings(actor=director, program=program, values={}, reason="again", based_on=row.pk)
    assert PerfusionSettings.objects.filter(program=program).count() == 2
    set_criteria(
        actor=director,
        program=program,
        criteria_set="va_flow_reduction",
        overrides=OVERRIDE,
        reason="review",
        based_on=0,
    )
    with pytest.raises(kernel.VersionConflict):
        set_criteria(
            actor=personas["admin"],
            program=program,
            criteria_set="va_flow_reduction",
            overrides=OVERRIDE,
            reason="x",
            based_on=0,
        )
    with pytest.raises(ValidationError) as bad:
        set_criteria(
            actor=director,
            program=program,
            criteria_set="va_flow_reduction",
            overrides=OVERRIDE,
            reason="x",
            based_on="x",
        )
    assert "based_on" in bad.value.message_dict


def test_the_perfusion_settings_page_shows_the_conflict(
    program: Any, personas: dict[str, Any], client_for: Any, make_user: Any
) -> None:
    from ecmo_web.perfusion import site

    second = make_user("director2", "director", program)
    director, admin = client_for(personas["director"]), client_for(second)
    page = admin.get(f"/programs/{program.pk}/perfusion/settings/").content.decode()
    assert 'name="based_on" value="0"' in page
    form = {s.key: str(s.default) for s in site.SETTINGS}
    url = f"/programs/{program.pk}/perfusion/settings/"
    assert post_form(director, url, {**form, "reason": "policy", "based_on": "0"}).status_code == 302
    late = post_form(admin, url, {**form, "reason": "mine", "based_on": "0"})
    html = late.content.decode()
    assert "director changed this at" in html and "not saved" in html


# --- a real race on PostgreSQL -------------------------------------------------------------------------------


def _race(*attempts: Callable[[], Any]) -> list[Any]:
    """Run the attempts at the same moment on their own threads (own connections); their results or errors."""
    start = threading.Barrier(len(attempts))
    results: list[Any] = [None] * len(attempts)

    def go(i: int) -> None:
        try:
            start.wait()
            results[i] = attempts[i]()
        except Exception as exc:  # the refusal is the result under test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(attempts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="row locks are real only on PostgreSQL")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgres_two_simultaneous_amendments_store_one(run: EcmoRun, personas: dict[str, Any]) -> None:
    for round_ in range(5):
        check = _check_at(run, personas, round_)
        results = _race(
            lambda c=check: _amend(c, personas["perfusionist"], -40, version=1),
            lambda c=check: _amend(c, personas["ecmo_specialist"], -60, version=1),
        )
        won = [r for r in results if isinstance(r, CircuitCheck)]
        refused = [r for r in results if isinstance(r, kernel.VersionConflict)]
        assert (len(won), len(refused)) == (1, 1), results
        chain = CircuitCheck.objects.filter(original_id=check.pk)
        assert chain.count() == 1 and chain.get().access_pressure_mmhg == won[0].access_pressure_mmhg


def _check_at(run: EcmoRun, personas: dict[str, Any], n: int) -> CircuitCheck:
    at = NOW - dt.timedelta(minutes=10 * n)
    return actions.record_check(
        actor=personas["perfusionist"],
        run=run,
        observed_at=at,
        data={"pump_speed_rpm": 3250, "blood_flow_l_min": 4.4, "access_pressure_mmhg": -35},
        now=NOW + dt.timedelta(minutes=1),
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgres_two_simultaneous_decides_apply_once(run: EcmoRun, personas: dict[str, Any]) -> None:
    for _ in range(5):
        decision = _decision(run, personas)
        results = _race(
            lambda pk=decision.pk: decision_actions.decide(
                actor=personas["intensivist"],
                decision=Decision.objects.get(pk=pk),
                decided_by=personas["intensivist"],
                decided_at=T0,
                version=1,
            ),
            lambda pk=decision.pk: decision_actions.decide(
                actor=personas["director"],
                decision=Decision.objects.get(pk=pk),
                decided_by=personas["director"],
                decided_at=T0,
                version=1,
            ),
        )
        assert sorted(type(r).__name__ for r in results) == ["Decision", "VersionConflict"], results
        assert decision.targets.count() == 1
        assert Decision.objects.get(pk=decision.pk).version == 2


# Component replacement: the install form carries the components in place when it was opened (hidden
# ``in_place``); of two people replacing the same oxygenator, the second is refused rather than leave two in place
# or replace the first one's new oxygenator unknowingly.


def _oxygenator(run: EcmoRun, actor: Any, lot: str, at: dt.datetime, **kwargs: Any) -> Component:
    return run_actions.install_component(
        actor=actor,
        run=run,
        kind="oxygenator",
        maker="Generic",
        model="Oxy A",
        lot=lot,
        installed_at=at,
        **kwargs,
    )


def test_two_replacements_of_the_same_oxygenator(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    first = _oxygenator(run, personas["perfusionist"], "LOT-1", T0)
    url = f"/runs/{run.pk}/components/add/"
    alice, bob = client_for(personas["perfusionist"]), client_for(personas["ecmo_specialist"])
    pages = [client.get(url) for client in (alice, bob)]
    assert all(f'name="in_place" value="{first.pk}"' in page.content.decode() for page in pages)
    data = {
        "kind": "oxygenator",
        "maker": "Generic",
        "model": "Oxy A",
        "installed_at": "2026-11-23T14:22",
        "reason_replaced": "rising ΔP",
        "in_place": str(first.pk),
    }
    assert post_form(alice, url, {**data, "lot": "LOT-2"}).status_code == 302
    response = post_form(bob, url, {**data, "lot": "LOT-3"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "changed the oxygenator" in body and "while you were editing" in body and "lot LOT-2" in body
    in_place = Component.objects.filter(kind="oxygenator", removed_at__isnull=True)
    assert [c.lot for c in in_place] == ["LOT-2"]
    second = in_place.get()
    assert f'name="in_place" value="{second.pk}"' in body  # the form now carries what is in place
    assert post_form(bob, url, {**data, "lot": "LOT-3", "in_place": str(second.pk)}).status_code == 302
    assert [c.lot for c in Component.objects.filter(kind="oxygenator").order_by("installed_at", "pk")] == [
        "LOT-1",
        "LOT-2",
        "LOT-3",
    ]


def test_an_install_without_state_is_taken_in_turn(run: EcmoRun, personas: dict[str, Any]) -> None:
    """A caller that sends no state (a script, the demo) is not checked: the new one replaces what is in place. One
    that saw nothing in place is refused once something is."""
    _oxygenator(run, personas["perfusionist"], "LOT-1", T0)
    _oxygenator(run, personas["perfusionist"], "LOT-2", T0 + dt.timedelta(days=1), reason_replaced="clots")
    with pytest.raises(kernel.VersionConflict) as err:
        _oxygenator(
            run,
            personas["perfusionist"],
            "LOT-3",
            T0 + dt.timedelta(days=2),
            in_place=[],
            reason_replaced="x",
        )
    assert err.value.field == "in_place" and "lot LOT-2" in str(err.value.message_dict["in_place"])
    assert Component.objects.filter(removed_at__isnull=True).count() == 1


def test_a_second_close_of_an_mm_action_is_refused(run: EcmoRun, personas: dict[str, Any]) -> None:
    case = quality_actions.open_case(actor=personas["quality"], run=run, title="Air", now=T0)
    action = quality_actions.add_action(
        actor=personas["quality"],
        case=case,
        text="Caps on taps",
        owner=personas["perfusionist"],
        due_on=TODAY,
    )
    seen_by_other = MmAction.objects.get(
        pk=action.pk
    )  # the second person's page, opened before the first closed
    quality_actions.close_action(actor=personas["perfusionist"], action=action, note="Caps stocked", now=NOW)
    with pytest.raises(ValidationError) as err:
        quality_actions.close_action(actor=personas["quality"], action=seen_by_other, note="Done differently")
    assert "already closed" in str(err.value) and "Caps stocked" in str(err.value)
    assert MmAction.objects.get(pk=action.pk).closing_note == "Caps stocked"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgres_two_simultaneous_replacements_leave_one_in_place(
    run: EcmoRun, personas: dict[str, Any]
) -> None:
    first = _oxygenator(run, personas["perfusionist"], "LOT-0", T0)
    for n in range(5):
        seen = [first.pk]
        at = T0 + dt.timedelta(hours=n + 1)
        results = _race(
            *(
                lambda who=who, lot=f"LOT-{n}{who[0]}", at=at, seen=seen: _oxygenator(
                    run, personas[who], lot, at, in_place=seen, reason_replaced="rising ΔP"
                )
                for who in ("perfusionist", "ecmo_specialist")
            )
        )
        assert sorted(type(r).__name__ for r in results) == ["Component", "VersionConflict"], results
        in_place = Component.objects.filter(kind="oxygenator", removed_at__isnull=True)
        assert in_place.count() == 1
        first = in_place.get()
