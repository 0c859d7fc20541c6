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
from collections.abc import Iterator
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
    assert bind_run(parsed, at=RUN_START + hour) == vv_run
    with pytest.raises(BindingError, match="no run in progress"):
        bind_run(parsed, at=RUN_START + 3 * hour)  # association ended
    with pytest.raises(BindingError, match="no run in progress"):
        bind_run(parsed, at=RUN_START - hour)  # before it began
