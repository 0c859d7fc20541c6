"""What the real HL7 handler does with awkward input: each case has one defined outcome (docs/hl7-mllp.md §1a).

Through ``hl7_ingest.handle`` (binding, checks, storage, dead letters, the message log), not only the parser:

- [x] a device clock ahead of ours by more than 5 min: refused AE 102 at OBX-14, nothing stored; 2 min ahead: stored
- [x] a time before the run (beyond its 48 h margin): refused AE 102 at OBX-14, nothing stored
- [x] a unit that converts (kPa → mmHg): stored converted; an unknown unit or one of another dimension: AE 103 at
      OBX-6 naming the unit and the parameter
- [x] the same parameter twice in one message with one value: stored once; with two values: AE 102 at the second
      OBX-5 naming the first, nothing stored
- [x] the same message resent (same sender and control id): AA, nothing new stored, logged as a duplicate
- [x] encoding characters: the 2.7 truncation character and other distinct characters are read; repeated or
      missing characters are rejected AR 102 at MSH-2
- [x] an FHS/BHS batch: rejected AR 100 naming FHS (or BHS), nothing of it stored, kept as a dead letter
- [x] value types: SN stating one value is stored; SN with a comparator or range, ST and CWE are refused naming
      OBX-5 or OBX-2
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ecmo_web.accounts.models import Membership, Program
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.hl7_ingest import handle
from ecmo_web.surveillance.models import DeadLetter, InboundMessage, Sample

pytestmark = pytest.mark.django_db(transaction=True)

EUI = "0A1B2C3D4E5F6071"
FLOW = "blood_flow_l_min^ECMO blood flow^99ECMO"
ACCESS = "access_pressure_mmhg^Access pressure^99ECMO"


@pytest.fixture
def run(db: Any, django_user_model: Any) -> EcmoRun:
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
        started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=6),
        console_serial=EUI,
    )


def stamp(at: dt.datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S+0000")


def oru(
    *obx: tuple[str, str, str, str],
    control_id: str = "M1",
    at: dt.datetime | None = None,
    obx_at: dt.datetime | None = None,
    msh2: str = "^~\\&",
) -> str:
    """An ORU^R01 from the console; each OBX is (value type, code, value, unit), observed at ``obx_at``."""
    when = stamp(at or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    observed = stamp(obx_at) if obx_at else when
    device = f"{EUI}^ACME_ECLS^{EUI}^EUI-64"
    segments = [
        f"MSH|{msh2}|ACME_ECLS^{EUI}^EUI-64||ECMO_STEWARD||{when}||ORU^R01^ORU_R01|{control_id}|P|2.6",
        "PID|",
        f"OBR|1|{control_id}||182777000^monitoring of patient^SCT|||{when}",
    ]
    segments += [
        f"OBX|{i}|{vt}|{code}|1.1.{i}.1|{value}|{unit}|||||R|||{observed}||||{device}"
        for i, (vt, code, value, unit) in enumerate(obx, 1)
    ]
    return "\r".join(segments) + "\r"


def segment(ack: str, name: str) -> list[str]:
    line = next((s for s in ack.split("\r") if s.startswith(f"{name}|")), "")
    return line.split("|")


def refused(ack: str, code: str, location: str, code_0357: str) -> str:
    """Assert the ACK's MSA-1, ERR-2 and ERR-3 code; return the reason (MSA-3)."""
    msa, err = segment(ack, "MSA"), segment(ack, "ERR")
    assert msa[1] == code, ack
    assert err[2] == location, ack
    assert err[3].split("^")[0] == code_0357, ack
    return msa[3]


def values() -> list[tuple[str, float]]:
    return list(Sample.objects.order_by("parameter").values_list("parameter", "value"))


def test_it_refuses_a_device_clock_more_than_five_minutes_ahead(run: EcmoRun) -> None:
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    reason = refused(handle(oru(("NM", FLOW, "4.2", "L/min"), at=ahead)), "AE", "OBX^1^14", "102")

    assert "ahead of this server's clock" in reason and "blood_flow_l_min" in reason
    assert values() == []
    assert DeadLetter.objects.get().error_location == "OBX^1^14"


def test_it_stores_a_device_clock_a_little_ahead(run: EcmoRun) -> None:
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    ack = handle(oru(("NM", FLOW, "4.2", "L/min"), at=ahead))

    assert segment(ack, "MSA")[1] == "AA"
    assert values() == [("blood_flow_l_min", 4.2)]


def test_it_refuses_an_observation_far_before_the_run_naming_its_time(run: EcmoRun) -> None:
    past = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)
    ack = handle(oru(("NM", ACCESS, "-80", "mm[Hg]"), ("NM", FLOW, "4.2", "L/min"), obx_at=past))
    reason = refused(ack, "AE", "OBX^1^14", "102")

    assert "outside the run" in reason
    assert values() == []


def test_it_refuses_a_message_from_before_any_run_as_unbound(run: EcmoRun) -> None:
    past = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)
    reason = refused(handle(oru(("NM", FLOW, "4.2", "L/min"), at=past)), "AE", "PID^1^3", "204")

    assert "no run in progress" in reason
    assert values() == []
    assert DeadLetter.objects.count() == 1


def test_it_converts_a_unit_it_knows(run: EcmoRun) -> None:
    ack = handle(oru(("NM", ACCESS, "-10", "kPa")))

    assert segment(ack, "MSA")[1] == "AA"
    assert values() == [("access_pressure_mmhg", pytest.approx(-75.006, abs=0.001))]


@pytest.mark.parametrize(
    ("unit", "words"), [("furlong", "not in the unit table"), ("mm[Hg]", "cannot be converted")]
)
def test_it_refuses_a_unit_it_cannot_convert_naming_the_obx(run: EcmoRun, unit: str, words: str) -> None:
    ack = handle(oru(("NM", ACCESS, "-80", "mm[Hg]"), ("NM", FLOW, "4.2", unit), control_id="U1"))
    reason = refused(ack, "AE", "OBX^2^6", "103")

    assert words in reason and "blood_flow_l_min" in reason
    assert values() == []


def test_it_stores_the_same_obx_twice_once(run: EcmoRun) -> None:
    ack = handle(oru(("NM", FLOW, "4.2", "L/min"), ("NM", FLOW, "4.20", "L/min")))

    assert segment(ack, "MSA")[1:4] == ["AA", "M1", "1 stored, 1 already held"]
    assert values() == [("blood_flow_l_min", 4.2)]


def test_it_refuses_two_values_for_one_parameter_at_one_time(run: EcmoRun) -> None:
    ack = handle(oru(("NM", FLOW, "4.2", "L/min"), ("NM", FLOW, "3.9", "L/min")))
    reason = refused(ack, "AE", "OBX^2^5", "102")

    assert "conflicts with OBX 1" in reason
    assert values() == []


def test_it_answers_a_resent_message_and_stores_nothing_new(run: EcmoRun) -> None:
    text = oru(("NM", FLOW, "4.2", "L/min"), ("NM", ACCESS, "-80", "mm[Hg]"))
    first, again = handle(text), handle(text)

    assert segment(first, "MSA")[1:4] == ["AA", "M1", "2 stored"]
    assert segment(again, "MSA")[1:4] == ["AA", "M1", "0 stored, 2 already held"]
    assert len(values()) == 2
    assert list(InboundMessage.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "stored",
        "duplicate",
    ]


def test_it_reads_distinct_encoding_characters(run: EcmoRun) -> None:
    truncation = handle(oru(("NM", FLOW, "4.2", "L/min"), msh2="^~\\&#", control_id="E1"))
    other = oru(("NM", FLOW, "4.4", "L/min"), control_id="E2", at=dt.datetime.now(dt.UTC)).replace("^", "$")

    assert segment(truncation, "MSA")[1] == "AA"
    assert segment(handle(other), "MSA")[1] == "AA"
    assert sorted(v for _, v in values()) == [4.2, 4.4]


@pytest.mark.parametrize("msh2", ["^^\\&", "", "^~a&"])
def test_it_rejects_unreadable_encoding_characters(run: EcmoRun, msh2: str) -> None:
    reason = refused(handle(oru(("NM", FLOW, "4.2", "L/min"), msh2=msh2)), "AR", "MSH^1^2", "102")

    assert "encoding characters" in reason
    assert values() == []


def test_it_rejects_a_batch_naming_the_batch_header(run: EcmoRun) -> None:
    inner = oru(("NM", FLOW, "4.2", "L/min"), control_id="B1") + oru(
        ("NM", FLOW, "4.3", "L/min"), control_id="B2", at=dt.datetime.now(dt.UTC)
    )
    for header, text in [
        ("FHS", "FHS|^~\\&|GW\rBHS|^~\\&|GW\r" + inner + "BTS|2\rFTS|1\r"),
        ("BHS", "BHS|^~\\&|GW\r" + inner + "BTS|2\r"),
    ]:
        reason = refused(handle(text), "AR", f"{header}^1", "100")
        assert "send each message in its own MLLP frame" in reason
    assert values() == []
    assert DeadLetter.objects.count() == 2


def test_it_stores_a_structured_numeric_that_states_one_value(run: EcmoRun) -> None:
    ack = handle(oru(("SN", FLOW, "^4.2", "L/min"), ("SN", ACCESS, "=^-80", "mm[Hg]")))

    assert segment(ack, "MSA")[1] == "AA"
    assert values() == [("access_pressure_mmhg", -80.0), ("blood_flow_l_min", 4.2)]


@pytest.mark.parametrize(
    ("value_type", "value", "location", "words"),
    [
        ("SN", ">^4.2", "OBX^1^5", "not a single value"),
        ("SN", "^3.8^-^4.2", "OBX^1^5", "not a single value"),
        ("ST", "4.2", "OBX^1^2", "value type ST is not NM or SN"),
        ("CWE", "1^yes^HL70136", "OBX^1^2", "value type CWE is not NM or SN"),
    ],
)
def test_it_refuses_other_value_types_naming_the_field(
    run: EcmoRun, value_type: str, value: str, location: str, words: str
) -> None:
    reason = refused(handle(oru((value_type, FLOW, value, "L/min"))), "AE", location, "102")

    assert words in reason
    assert values() == []
