"""The HL7 listener end to end: real MLLP over TCP into the database.

- a valid ORU^R01 is bound to its run by the console serial, stored, then acknowledged AA with the count
- the same message again stores nothing and is still acknowledged AA (idempotent on sender + control id)
- enhanced mode (MSH-15 = AL) gets CA
- binding by MRN (PID-3) and by bed association
- an unreadable message gets AR and is kept in the dead-letter table with the reason
- a message whose codes cannot be mapped gets AE (103) and is dead-lettered; nothing stored
- a message for no known run gets AE (204), dead-lettered; nothing stored
- an implausible value gets AE (102) naming the parameter and range; nothing of the message is stored
- a connection dropped mid-message stores nothing, acknowledges nothing and dead-letters nothing
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ecmo_web import mllp
from ecmo_web.accounts.models import Program
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.hl7_ingest import handle
from ecmo_web.surveillance.models import DeadLetter, DeviceAssociation, Sample

pytestmark = pytest.mark.django_db(transaction=True)

EUI = "0A1B2C3D4E5F6071"
RUN_START = dt.datetime(2024, 12, 31, 10, 0, tzinfo=dt.UTC)


def message(
    *,
    control_id: str = "SYN0001",
    accept: str = "",
    pid: str = "",
    bed: str = "ICU^^BED07",
    flow: str = "4.20",
    code: str = "blood_flow_l_min^ECMO blood flow^99ECMO",
    eui: str = EUI,
) -> str:
    device = f"{eui}^ACME_ECLS^{eui}^EUI-64"
    segments = [
        f"MSH|^~\\&|ACME_ECLS^{eui}^EUI-64||ECMO_STEWARD||20250101120000+0000||ORU^R01^ORU_R01|{control_id}|P|2.6"
        f"|||{accept}|{'NE' if accept else ''}",
        f"PID|||{pid}" if pid else "PID|",
        f"PV1||I|{bed}",
        f"OBR|1|{control_id}^ACME_ECLS^{eui}^EUI-64||182777000^monitoring of patient^SCT|||20250101120000+0000",
        f"OBX|1|NM|{code}|1.1.1.1|{flow}|L/min^L/min^UCUM|||||R|||20250101115955+0000|||AMEAS^auto^MDC|{device}",
        f"OBX|2|NM|fdo2^Sweep gas O2 fraction^99ECMO|1.1.3.1|100|262688^MDC_DIM_PERCENT^MDC|||||R|||"
        f"20250101115955+0000|||MSET^manual-setting^MDC|{device}",
    ]
    return "\r".join(segments) + "\r"


def msa(ack: str) -> list[str]:
    line = next(seg for seg in ack.replace("\n", "\r").split("\r") if seg.startswith("MSA|"))
    return line.split("|")


def err(ack: str) -> str:
    return next((seg for seg in ack.replace("\n", "\r").split("\r") if seg.startswith("ERR|")), "")


@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    """``ecmo_web.mllp.serve`` with the real Django handler, in its own thread and event loop, shut down cleanly."""
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["stop"] = asyncio.Event()

        def on_ready(addresses: list[tuple[str, int]]) -> None:
            state["port"] = addresses[0][1]
            ready.set()

        await mllp.serve(
            handle, host="127.0.0.1", port=0, stop=state["stop"], on_ready=on_ready, shutdown_grace_s=5
        )

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield "127.0.0.1", state["port"]
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(10)
    assert not thread.is_alive()


@pytest.fixture
def vv_run(db: Any, django_user_model: Any) -> EcmoRun:
    from ecmo_web.accounts.models import Membership

    program = Program.objects.create(name="North")
    user = django_user_model.objects.create_user("perf", password="x" * 12)
    Membership.objects.create(user=user, program=program, role="perfusionist")
    return actions.start_run(
        actor=user,
        program=program,
        patient_code="TEST-0001",
        sex="male",
        birth_year=1970,
        indication="respiratory",
        mode="vv",
        started_at=RUN_START,
        console_serial=EUI,
        identifiers={"mrn": "TEST-MRN-77"},
        identifier_authority="HOSP",
    )


def test_it_stores_then_acknowledges_aa(listener: tuple[str, int], vv_run: EcmoRun) -> None:
    ack = mllp.send_message(*listener, message())
    code = msa(ack)
    assert code[1] == "AA" and code[2] == "SYN0001"
    stored = {s.parameter: s for s in Sample.objects.filter(run=vv_run)}
    assert stored["blood_flow_l_min"].value == pytest.approx(4.2)
    assert stored["fdo2"].value == pytest.approx(1.0)
    assert stored["blood_flow_l_min"].source == f"hl7:{EUI}"
    assert stored["blood_flow_l_min"].observed_at == dt.datetime(2025, 1, 1, 11, 59, 55, tzinfo=dt.UTC)


def test_it_adds_nothing_for_a_duplicate_but_still_acknowledges(
    listener: tuple[str, int], vv_run: EcmoRun
) -> None:
    assert msa(mllp.send_message(*listener, message()))[1] == "AA"
    count = Sample.objects.count()
    assert msa(mllp.send_message(*listener, message()))[1] == "AA"
    assert Sample.objects.count() == count
    assert not DeadLetter.objects.exists()


def test_it_answers_ca_in_enhanced_mode(listener: tuple[str, int], vv_run: EcmoRun) -> None:
    assert msa(mllp.send_message(*listener, message(accept="AL")))[1] == "CA"


def test_it_binds_by_mrn_and_by_bed(listener: tuple[str, int], vv_run: EcmoRun) -> None:
    ack = mllp.send_message(
        *listener, message(control_id="M1", pid="TEST-MRN-77^^^HOSP^MR", eui="0000000000000001")
    )
    assert msa(ack)[1] == "AA"
    DeviceAssociation.objects.create(
        program=vv_run.program, run=vv_run, bed="ICU^BED07", started_at=RUN_START
    )
    ack = mllp.send_message(*listener, message(control_id="M2", eui="0000000000000002", flow="4.3"))
    assert msa(ack)[1] == "AA"
    assert Sample.objects.filter(run=vv_run, parameter="blood_flow_l_min").count() == 2


def test_it_rejects_and_dead_letters_an_unreadable_message(
    listener: tuple[str, int], vv_run: EcmoRun
) -> None:
    ack = mllp.send_message(*listener, "this is not HL7\r")
    assert msa(ack)[1] == "AR"
    letter = DeadLetter.objects.get()
    assert letter.raw_message == "this is not HL7\r" and letter.error_code in {"100", "102"}
    assert not Sample.objects.exists()


def test_it_dead_letters_unmappable_codes(listener: tuple[str, int], vv_run: EcmoRun) -> None:
    text = message(code="12345^SOMETHING^99PRIVATE").replace("fdo2^Sweep gas O2 fraction^99ECMO", "999^X^99Y")
    ack = mllp.send_message(*listener, text)
    assert msa(ack)[1] == "AE" and "|103" in err(ack)
    assert DeadLetter.objects.get().error_code == "103"
    assert not Sample.objects.exists()


def test_it_dead_letters_a_message_for_no_known_run(listener: tuple[str, int], vv_run: EcmoRun) -> None:
    ack = mllp.send_message(*listener, message(eui="00000000000000EE", bed="WARD^^BED99"))
    assert msa(ack)[1] == "AE" and "|204" in err(ack)
    letter = DeadLetter.objects.get()
    assert "no run in progress matches" in letter.reason and "00000000000000EE" in letter.reason
    assert not Sample.objects.exists()


def test_it_refuses_an_implausible_value_and_stores_nothing_of_the_message(
    listener: tuple[str, int], vv_run: EcmoRun
) -> None:
    ack = mllp.send_message(*listener, message(flow="45"))
    assert msa(ack)[1] == "AE"
    assert "blood_flow_l_min" in ack
    assert not Sample.objects.exists()
    assert DeadLetter.objects.count() == 1


def test_it_ignores_a_connection_dropped_mid_message(listener: tuple[str, int], vv_run: EcmoRun) -> None:
    frame = ("\x0b" + message()).encode()
    with socket.create_connection(listener, timeout=5) as sock:
        sock.sendall(frame[: len(frame) // 2])
    # A complete message afterwards on a new connection proves the server is still serving.
    assert msa(mllp.send_message(*listener, message(control_id="AFTER")))[1] == "AA"
    assert Sample.objects.filter(batch__ref__endswith="|SYN0001").count() == 0
    assert not DeadLetter.objects.exists()


def test_it_binds_only_within_an_associations_time_bounds(vv_run: EcmoRun) -> None:
    from ecmo_core import hl7v2
    from ecmo_web.surveillance.hl7_ingest import BindingError, bind_run

    hour = dt.timedelta(hours=1)
    DeviceAssociation.objects.create(
        program=vv_run.program,
        run=vv_run,
        bed="ICU^BED07",
        started_at=RUN_START,
        ended_at=RUN_START + 2 * hour,
    )
    parsed = hl7v2.parse_oru(message(eui="0000000000000003"))
    assert bind_run(parsed, at=RUN_START + hour).run == vv_run
    with pytest.raises(BindingError, match="no run in progress"):
        bind_run(parsed, at=RUN_START + 3 * hour)  # association ended
    with pytest.raises(BindingError, match="no run in progress"):
        bind_run(parsed, at=RUN_START - hour)  # before it began


# --- identity: a message naming a patient is stored only on that patient's run (issue 9, defects 1 and 2) -----


def _start(program: Program, user: Any, code: str, mrn: str, console: str, **kwargs: Any) -> EcmoRun:
    return actions.start_run(
        actor=user,
        program=program,
        patient_code=code,
        sex="female",
        birth_year=1980,
        indication="respiratory",
        mode="vv",
        started_at=RUN_START,
        console_serial=console,
        identifiers={"mrn": mrn},
        **kwargs,
    )


@pytest.fixture
def ended_patient_run(vv_run: EcmoRun) -> EcmoRun:
    """A second patient of the same program whose run is over: known here, with no run in progress."""
    user = vv_run.program.memberships.get().user
    other = _start(vv_run.program, user, "TEST-0002", "TEST-MRN-88", "0000000000000BBB")
    return actions.end_run(
        actor=user, run=other, ended_at=RUN_START + dt.timedelta(minutes=30), outcome="weaned"
    )


def test_it_refuses_a_known_patient_without_a_run_instead_of_using_the_consoles_run(
    vv_run: EcmoRun, ended_patient_run: EcmoRun
) -> None:
    # The console EUI feeds TEST-0001's run; PID-3 names TEST-0002, whose run ended yesterday.
    ack = handle(message(pid="TEST-MRN-88^^^^MR"))
    assert msa(ack)[1] == "AE"
    assert "|204" in err(ack) and "PID^1^3" in err(ack)
    assert not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert letter.program == vv_run.program
    assert "TEST-0002" in letter.reason or "no run in progress" in letter.reason


def test_it_answers_ce_for_that_in_enhanced_mode(vv_run: EcmoRun, ended_patient_run: EcmoRun) -> None:
    assert msa(handle(message(pid="TEST-MRN-88", accept="AL")))[1] == "CE"
    assert not Sample.objects.exists()


def test_it_refuses_a_patient_who_conflicts_with_the_consoles_run_and_flags_it(vv_run: EcmoRun) -> None:
    user = vv_run.program.memberships.get().user
    other = _start(vv_run.program, user, "TEST-0002", "TEST-MRN-88", "0000000000000BBB")
    # The console is TEST-0001's; the PID names TEST-0002, who is on ECMO on another console.
    ack = handle(message(pid="TEST-MRN-88"))
    assert msa(ack)[1] == "AE" and "|204" in err(ack)
    assert not Sample.objects.filter(run__in=[vv_run, other]).exists()
    letter = DeadLetter.objects.get()
    assert letter.identity_conflict is True
    assert letter.program == vv_run.program
    assert "conflict" in letter.reason


def test_it_matches_identifiers_only_within_the_programs_the_listener_serves(
    vv_run: EcmoRun, django_user_model: Any
) -> None:
    from ecmo_web.accounts.models import Membership
    from ecmo_web.surveillance.hl7_ingest import ListenerConfig

    south = Program.objects.create(name="South")
    user = django_user_model.objects.create_user("south-perf", password="x" * 12)
    Membership.objects.create(user=user, program=south, role="perfusionist")
    south_run = _start(south, user, "TEST-0101", "TEST-MRN-55", "0000000000000CCC")
    north_only = ListenerConfig(program_ids=frozenset({vv_run.program.pk}))
    # Same identifier, sent from a gateway that serves North only, with no console of North: never South's run.
    ack = handle(message(pid="TEST-MRN-55", eui="00000000000000EE", bed="WARD^^BED99"), north_only)
    assert msa(ack)[1] == "AE"
    assert not Sample.objects.filter(run=south_run).exists()
    # A listener serving every program finds it.
    assert msa(handle(message(control_id="S2", pid="TEST-MRN-55", eui="00000000000000EE")))[1] == "AA"
    assert Sample.objects.filter(run=south_run).exists()


def test_it_matches_identifiers_within_their_assigning_authority(vv_run: EcmoRun) -> None:
    # The same number issued by another hospital is another patient: unknown here, and this console's patient has
    # an identifier of that hospital?  No (HOSP ≠ CLINIC), so device binding applies, marked unverified.
    ack = handle(message(pid="TEST-MRN-77^^^CLINIC^MR"))
    assert msa(ack)[1] == "AA"
    batch = Sample.objects.filter(run=vv_run).first().batch
    assert batch is not None and batch.identity_unverified is True
    # Within the right authority it is this patient: verified.
    ack = handle(message(control_id="M2", pid="TEST-MRN-77^^^HOSP^MR", eui="0000000000000002"))
    assert msa(ack)[1] == "AA"
    assert (
        Sample.objects.filter(run=vv_run, source="hl7:0000000000000002").first().batch.identity_unverified
        is False
    )


def test_it_refuses_an_unknown_identifier_when_the_consoles_patient_has_one_of_that_authority(
    vv_run: EcmoRun,
) -> None:
    ack = handle(message(pid="TEST-MRN-99^^^HOSP^MR"))  # HOSP says this is someone else
    assert msa(ack)[1] == "AE"
    assert not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert letter.identity_conflict is True and letter.program == vv_run.program


def test_it_binds_by_the_console_when_the_message_names_no_patient(vv_run: EcmoRun) -> None:
    assert msa(handle(message()))[1] == "AA"
    assert Sample.objects.filter(run=vv_run).first().batch.identity_unverified is False


def test_it_shows_the_unverified_identity_on_the_run_page(
    vv_run: EcmoRun, client_for: Callable[[Any], Any]
) -> None:
    user = vv_run.program.memberships.get().user
    page = client_for(user).get(f"/runs/{vv_run.pk}/").content.decode()
    assert "identity unverified" not in page
    assert msa(handle(message(pid="TEST-MRN-12345^^^CLINIC")))[1] == "AA"
    page = client_for(user).get(f"/runs/{vv_run.pk}/").content.decode()
    assert "identity unverified" in page


def test_it_shows_dead_letters_to_that_programs_staff_and_not_to_outsiders(
    vv_run: EcmoRun, ended_patient_run: EcmoRun, django_user_model: Any, client_for: Callable[[Any], Any]
) -> None:
    from ecmo_web.accounts.models import Membership

    handle(message(pid="TEST-MRN-88", control_id="DL-NORTH"))  # known patient, no run: North's letter
    user = vv_run.program.memberships.get().user
    outsider = django_user_model.objects.create_user("outsider", password="x" * 12)
    Membership.objects.create(
        user=outsider, program=Program.objects.create(name="South"), role="perfusionist"
    )
    django_user_model.objects.filter(pk__in=[user.pk, outsider.pk]).update(is_staff=True)
    staff_page = client_for(user).get("/admin/surveillance/deadletter/")
    assert staff_page.status_code == 200 and "DL-NORTH" in staff_page.content.decode()
    outsider_page = client_for(outsider).get("/admin/surveillance/deadletter/")
    assert "DL-NORTH" not in outsider_page.content.decode()
    # The review can be filtered to identity conflicts.
    assert (
        client_for(user).get("/admin/surveillance/deadletter/?identity_conflict__exact=0").status_code == 200
    )


# --- the live path: ACK after commit, evaluation after that, group commit, the message log (issue 10) ----------


def test_it_acknowledges_after_commit_and_queues_the_run_for_evaluation(vv_run: EcmoRun) -> None:
    from ecmo_web.surveillance.evaluation_queue import evaluate_pending
    from ecmo_web.surveillance.models import EvaluationRequest, RuleState

    assert msa(handle(message()))[1] == "AA"
    request = EvaluationRequest.objects.get(run=vv_run)
    assert request.pending and request.replay_from == dt.datetime(2025, 1, 1, 11, 59, 55, tzinfo=dt.UTC)
    assert not RuleState.objects.filter(run=vv_run).exists()  # no rule pass inside the message's transaction
    result = evaluate_pending()
    assert result.runs == 1 and result.failed == 0
    assert RuleState.objects.filter(run=vv_run).exists()
    assert not EvaluationRequest.objects.get(run=vv_run).pending


def test_it_evaluates_a_run_at_most_once_per_interval(vv_run: EcmoRun) -> None:
    from django.utils import timezone

    from ecmo_web.surveillance.evaluation_queue import evaluate_pending
    from ecmo_web.surveillance.models import EvaluationRequest

    handle(message(control_id="A1"))
    handle(message(control_id="A2", eui="0000000000000002", pid="TEST-MRN-77^^^HOSP"))
    t0 = timezone.now()
    assert evaluate_pending(now=t0, every_s=1.0).runs == 1  # two messages, one evaluation
    handle(message(control_id="A3", eui="0000000000000003", pid="TEST-MRN-77^^^HOSP"))
    assert EvaluationRequest.objects.get(run=vv_run).pending
    assert evaluate_pending(now=t0 + dt.timedelta(seconds=0.5), every_s=1.0).runs == 0  # within the interval
    assert evaluate_pending(now=t0 + dt.timedelta(seconds=1), every_s=1.0).runs == 1
    assert evaluate_pending(now=t0 + dt.timedelta(seconds=5), every_s=1.0).runs == 0  # nothing new


def test_it_evaluates_again_from_the_claimed_span_when_an_evaluator_died_after_its_claim(
    vv_run: EcmoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is a transaction of its own; an evaluator whose process dies before its evaluation commits leaves
    the claim, and the run is evaluated again after the interval from the span it claimed."""
    from django.utils import timezone

    from ecmo_web.surveillance import actions, evaluation_queue
    from ecmo_web.surveillance.models import EvaluationRequest

    handle(message(control_id="C1"))
    t0 = timezone.now()
    assert evaluation_queue._claim(vv_run.pk, t0, 1.0) is not None  # ... and the evaluator dies here
    request = EvaluationRequest.objects.get(run=vv_run)
    observed = dt.datetime(2025, 1, 1, 11, 59, 55, tzinfo=dt.UTC)
    assert not request.pending and request.claimed_from == observed
    handle(message(control_id="C2", eui="0000000000000002", pid="TEST-MRN-77^^^HOSP"))  # arrives meanwhile
    replayed: list[Any] = []
    evaluate_run = actions.evaluate_run

    def recording(run: EcmoRun, **kwargs: Any) -> Any:
        replayed.append(kwargs["replay_from"])
        return evaluate_run(run, **kwargs)

    monkeypatch.setattr(actions, "evaluate_run", recording)
    assert evaluation_queue.evaluate_pending(now=t0 + dt.timedelta(seconds=0.5), every_s=1.0).runs == 0
    assert evaluation_queue.evaluate_pending(now=t0 + dt.timedelta(seconds=1), every_s=1.0).runs == 1
    assert replayed == [observed]
    request = EvaluationRequest.objects.get(run=vv_run)
    assert not request.pending and request.claimed_from is None
    assert evaluation_queue.evaluate_pending(now=t0 + dt.timedelta(seconds=5), every_s=1.0).runs == 0


def test_it_commits_a_message_while_its_run_is_being_evaluated_and_evaluates_it_next(
    vv_run: EcmoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluation does not hold the run's request row: a message for the run commits (and is acknowledged)
    while the run is being judged, and leaves a new request for the next interval. (PostgreSQL: on SQLite every
    write waits for the single write lock anyway.)"""
    from django.db import connection, transaction
    from django.utils import timezone

    from ecmo_web.surveillance import actions, evaluation_queue
    from ecmo_web.surveillance.models import EvaluationCursor, EvaluationRequest

    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one write lock: a commit waits for any writing transaction")
    handle(message(control_id="E1"))
    acks: list[str] = []
    evaluate_run = actions.evaluate_run

    def meanwhile(run: EcmoRun, **kwargs: Any) -> Any:
        with (
            transaction.atomic()
        ):  # inside the evaluation's transaction, the cursor row locked as it locks it
            EvaluationCursor.objects.select_for_update().get_or_create(run=run)
            sender = threading.Thread(
                target=lambda: acks.append(
                    handle(message(control_id="E2", eui="0000000000000002", pid="TEST-MRN-77^^^HOSP"))
                )
            )
            sender.start()
            sender.join(
                20
            )  # the old claim held the request row until here: the message waited for this commit
            assert acks and msa(acks[0])[1] == "AA"
            return evaluate_run(run, **kwargs)

    monkeypatch.setattr(actions, "evaluate_run", meanwhile)
    t0 = timezone.now()
    assert evaluation_queue.evaluate_pending(now=t0, every_s=1.0).runs == 1
    assert EvaluationRequest.objects.get(run=vv_run).pending  # E2's request, for the next interval
    monkeypatch.setattr(actions, "evaluate_run", evaluate_run)
    assert evaluation_queue.evaluate_pending(now=t0 + dt.timedelta(seconds=1), every_s=1.0).runs == 1


def test_it_queues_no_evaluation_for_a_duplicate_or_a_refused_message(vv_run: EcmoRun) -> None:
    from ecmo_web.surveillance.evaluation_queue import evaluate_pending
    from ecmo_web.surveillance.models import EvaluationRequest

    handle(message())
    evaluate_pending()
    handle(message())  # the same message again
    handle(message(control_id="BAD", flow="45"))  # refused
    assert not EvaluationRequest.objects.get(run=vv_run).pending


def test_it_commits_messages_arriving_together_in_one_transaction_each_with_its_own_ack(
    vv_run: EcmoRun,
) -> None:
    from ecmo_web.audit.chain import verify
    from ecmo_web.audit.models import AuditEvent
    from ecmo_web.surveillance.hl7_ingest import Ingestor

    ingestor = Ingestor(start=False)  # the writer starts once all five wait: they arrived together
    texts = [
        message(control_id=f"G{i}", eui=f"000000000000000{i}", pid="TEST-MRN-77^^^HOSP") for i in range(4)
    ]
    texts.append(message(control_id="GBAD", flow="45"))  # an implausible value: refused alone
    acks: dict[str, str] = {}

    def send(text: str) -> None:
        acks[hl7v2_control_id(text)] = ingestor(text)

    threads = [threading.Thread(target=send, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while ingestor.queued < len(texts) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not acks  # nothing is acknowledged before its commit
    ingestor.start()
    for t in threads:
        t.join(30)
    ingestor.close()
    assert {k: msa(v)[1] for k, v in acks.items()} == {
        "G0": "AA",
        "G1": "AA",
        "G2": "AA",
        "G3": "AA",
        "GBAD": "AE",
    }
    assert ingestor.groups == 1 and ingestor.messages == 5
    assert Sample.objects.filter(run=vv_run).count() == 8
    assert DeadLetter.objects.get().control_id == "GBAD"
    event = AuditEvent.objects.get(action="hl7.messages_committed")
    assert sorted(m["control_id"] for m in event.after["messages"]) == ["G0", "G1", "G2", "G3", "GBAD"]
    assert verify().ok


CSRF = "t" * 32  # what the page's {% csrf_token %} would have set as the cookie and the form field


def post(client: Any, path: str) -> Any:
    client.cookies["csrftoken"] = CSRF
    return client.post(path, {"csrfmiddlewaretoken": CSRF})


def hl7v2_control_id(text: str) -> str:
    from ecmo_core import hl7v2

    return hl7v2.read_header(text).control_id


def test_it_logs_every_message_with_its_outcome_and_the_ack_sent(
    listener: tuple[str, int], vv_run: EcmoRun
) -> None:
    from ecmo_web.surveillance.models import InboundMessage

    mllp.send_message(*listener, message(control_id="L1"))
    mllp.send_message(*listener, message(control_id="L1"))
    mllp.send_message(*listener, message(control_id="L2", flow="45"))
    mllp.send_message(*listener, "this is not HL7\r")
    rows = list(InboundMessage.objects.order_by("pk"))
    assert [(r.control_id, r.outcome, r.ack_code) for r in rows] == [
        ("L1", "stored", "AA"),
        ("L1", "duplicate", "AA"),
        ("L2", "error", "AE"),
        ("", "rejected", "AR"),
    ]
    assert rows[0].raw_message == message(control_id="L1") and "MSA|AA|L1" in rows[0].ack
    assert rows[0].peer.startswith("127.0.0.1:") and rows[0].run == vv_run
    assert rows[2].program == vv_run.program and rows[2].dead_letter is not None
    assert rows[3].program is None  # unreadable: the integration team's, not a program's


def test_it_shows_the_message_log_to_program_staff_only_and_searches_it(
    vv_run: EcmoRun, django_user_model: Any, client_for: Callable[[Any], Any]
) -> None:
    from ecmo_web.accounts.models import Membership

    handle(message(control_id="FIND-ME"))
    handle(message(control_id="OTHER-1", eui="0000000000000002", pid="TEST-MRN-77^^^HOSP"))
    staff = client_for(vv_run.program.memberships.get().user)
    url = f"/programs/{vv_run.program.pk}/hl7/messages/"
    page = staff.get(url).content.decode()
    assert "FIND-ME" in page and "OTHER-1" in page
    page = staff.get(url, {"q": "find"}).content.decode()
    assert "FIND-ME" in page and "OTHER-1" not in page
    outsider = django_user_model.objects.create_user("outsider", password="x" * 12)
    Membership.objects.create(
        user=outsider, program=Program.objects.create(name="South"), role="perfusionist"
    )
    assert client_for(outsider).get(url).status_code == 404
    researcher = django_user_model.objects.create_user("researcher", password="x" * 12)
    Membership.objects.create(user=researcher, program=vv_run.program, role="researcher")
    assert client_for(researcher).get(url).status_code == 403  # raw messages carry identifiers


def test_it_purges_the_message_log_after_the_retention(vv_run: EcmoRun) -> None:
    from django.utils import timezone

    from ecmo_web.surveillance.hl7_ingest import purge_inbound_messages
    from ecmo_web.surveillance.models import InboundMessage

    handle(message(control_id="OLD"))
    handle(message(control_id="NEW", eui="0000000000000002", pid="TEST-MRN-77^^^HOSP"))
    InboundMessage.objects.filter(control_id="OLD").update(received_at=timezone.now() - dt.timedelta(days=31))
    assert purge_inbound_messages(now=timezone.now(), retention_days=30) == 1
    assert list(InboundMessage.objects.values_list("control_id", flat=True)) == ["NEW"]
    with pytest.raises(ValueError, match="positive"):
        purge_inbound_messages(now=timezone.now(), retention_days=0)


def test_it_reprocesses_a_dead_letter_once_its_console_is_associated(
    vv_run: EcmoRun, client_for: Callable[[Any], Any]
) -> None:
    from ecmo_web.audit.models import AuditEvent

    ack = handle(message(control_id="LATE", eui="00000000000000EE", bed="ICU^^BED12"))
    assert msa(ack)[1] == "AE" and not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert letter.program is None  # no run, no program yet: the integration team's queue
    DeviceAssociation.objects.create(
        program=vv_run.program, run=vv_run, bed="ICU^BED12", started_at=RUN_START
    )
    letter.program = (
        vv_run.program
    )  # an administrator assigns it to the program whose bed it turned out to be
    letter.save(update_fields=["program"])
    user = vv_run.program.memberships.get().user
    response = post(client_for(user), f"/hl7/dead-letters/{letter.pk}/reprocess/")
    assert response.status_code == 302
    assert Sample.objects.filter(run=vv_run).count() == 2
    letter.refresh_from_db()
    assert letter.reprocessed_at is not None and letter.reviewed_by == user
    assert AuditEvent.objects.filter(action="hl7.dead_letter_reprocessed", actor=user).exists()
    # Once only.
    assert post(client_for(user), f"/hl7/dead-letters/{letter.pk}/reprocess/").status_code == 302
    assert Sample.objects.filter(run=vv_run).count() == 2


def test_it_refuses_to_reprocess_for_an_outsider_or_while_still_unbound(
    vv_run: EcmoRun, django_user_model: Any, client_for: Callable[[Any], Any]
) -> None:
    from django.core.exceptions import ValidationError

    from ecmo_web.accounts.models import Membership
    from ecmo_web.surveillance.hl7_ingest import reprocess_dead_letter

    handle(message(control_id="NOWHERE", eui="00000000000000EE", bed="WARD^^BED99"))
    letter = DeadLetter.objects.get()
    letter.program = vv_run.program
    letter.save(update_fields=["program"])
    outsider = django_user_model.objects.create_user("outsider", password="x" * 12)
    Membership.objects.create(
        user=outsider, program=Program.objects.create(name="South"), role="perfusionist"
    )
    assert post(client_for(outsider), f"/hl7/dead-letters/{letter.pk}/reprocess/").status_code == 404
    with pytest.raises(ValidationError, match="still cannot be stored"):
        reprocess_dead_letter(actor=vv_run.program.memberships.get().user, letter=letter)
    letter.refresh_from_db()
    assert letter.reprocessed_at is None and DeadLetter.objects.count() == 1


def test_it_evaluates_queued_runs_in_the_listeners_evaluator_thread(vv_run: EcmoRun) -> None:
    from ecmo_web.surveillance.evaluation_queue import Evaluator
    from ecmo_web.surveillance.models import EvaluationRequest

    evaluator = Evaluator(every_s=1.0, poll_s=0.05).start()
    try:
        assert msa(handle(message()))[1] == "AA"
        evaluator.wake()
        deadline = time.monotonic() + 30
        while EvaluationRequest.objects.get(run=vv_run).pending and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        evaluator.stop()
    assert not EvaluationRequest.objects.get(run=vv_run).pending
    assert sum(p.runs for p in evaluator.passes) == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--program", "999999"], "no program with id 999999"),
        (["--evaluation-interval", "0"], "--evaluation-interval must be a positive"),
        (["--group-window-ms", "-1"], "--group-window-ms must be between 0 and 1000"),
    ],
)
def test_it_refuses_bad_listener_options_naming_them(vv_run: EcmoRun, args: list[str], error: str) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=error):
        call_command("mllp_listen", "--port", "0", *args)


def test_it_lets_the_surveillance_worker_evaluate_queued_runs_and_purge_the_log(vv_run: EcmoRun) -> None:
    from ecmo_web.surveillance import worker
    from ecmo_web.surveillance.models import EvaluationRequest

    assert msa(handle(message()))[1] == "AA"  # e.g. a listener started with --no-evaluator
    summary = worker.one_pass()
    assert "1 queued runs evaluated" in summary and "0 HL7 messages purged" in summary
    assert not EvaluationRequest.objects.get(run=vv_run).pending


def test_it_keeps_the_sqlite_wal_short_from_a_thread_of_its_own(vv_run: EcmoRun) -> None:
    """SQLite: the writer leaves checkpoints to the checkpointer thread (its own connection checkpoints only past a
    large safety limit), so copying the WAL back into the database is off the path of every acknowledgement."""
    from django.db import connection

    from ecmo_web.surveillance import hl7_ingest

    if connection.vendor != "sqlite":
        pytest.skip("the WAL is SQLite's")
    ingestor = hl7_ingest.Ingestor()
    seen: list[int] = []

    def record() -> None:  # runs in the writer thread, on the writer's own connection
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            seen.append(cursor.fetchone()[0])

    ingestor.on_commit = record
    assert msa(ingestor(message()))[1] == "AA"
    deadline = time.monotonic() + 30
    while ingestor.checkpoints == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    ingestor.close()
    assert seen == [hl7_ingest.WRITER_AUTOCHECKPOINT_PAGES]
    assert ingestor.checkpoints >= 1
    assert not ingestor._checkpointer.is_alive()
    assert Sample.objects.filter(run=vv_run).count() == 2


def test_it_finds_a_resent_message_through_the_batch_index_not_the_runs_whole_history(
    vv_run: EcmoRun,
) -> None:
    """Idempotency reads one index entry per message: SQLite uses the partial unique index on (run, kind, ref)
    only when the query repeats its condition; otherwise it read every batch the run ever received, per group."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query plan")
    handle(message(control_id="IDX1"))
    with CaptureQueriesContext(connection) as queries:
        assert msa(handle(message(control_id="IDX1")))[1] == "AA"
    lookups = [q["sql"] for q in queries.captured_queries if 'FROM "surveillance_ingestbatch"' in q["sql"]]
    assert lookups
    with connection.cursor() as cursor:
        for sql in lookups:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(row[3] for row in cursor.fetchall())
            assert "ingest_batch_ref_unique" in plan, plan


def test_the_evaluator_reads_the_apps_contributions_before_its_first_evaluation(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first read of the contribution registry imports the apps' modules (half a second): the evaluator does it
    when it starts, not inside its first evaluation's transaction (on SQLite, the write lock the listener waits for)."""
    from ecmo_web import contributions
    from ecmo_web.surveillance.evaluation_queue import Evaluator

    monkeypatch.setattr(contributions, "_collected", None)
    evaluator = Evaluator(every_s=1.0, poll_s=0.05).start()
    evaluator.stop()
    assert contributions._collected is not None
