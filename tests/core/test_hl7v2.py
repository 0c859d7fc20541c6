"""HL7 v2 ORU^R01 parsing, code mapping and acknowledgements (``ecmo_core.hl7v2``).

Messages follow the structures and the synthetic example of ``shared/clinical/device-data.md`` (DD).

Spec checklist:
- [x] the DD §4 synthetic PCD-01 message: header, PV1 bed, EUI-64 device, 99ECMO codes, % → fraction
- [x] a generic MDC pressure is unmapped by default and mapped only through a site channel entry (DD §1.2)
- [x] channel entries match the longest dotted OBX-4 prefix, including a metric code in the last place
- [x] MDC numeric code, MDC reference id, missing system on MDC codes, alternate coding, LOINC, SNOMED
- [x] CR, LF and CRLF separators give the same result; blank lines and stray MLLP bytes are ignored
- [x] absent PID, empty PID-3, several PID-3 repetitions with subcomponents
- [x] units: MDC_DIM numbers, UCUM, free text, empty OBX-6, mL/min, %, kPa; unknown or unconvertible → 103
- [x] OBX-11: device-tree rows (X) and empty values skipped, D/W listed for review, unknown status → 103
- [x] times: OBX-14, else OBR-7, else MSH-7; no offset → MSH-7's offset, else ``default_tz``; to UTC
- [x] rejected (AR/CR): no MSH, unreadable MSH, empty MSH-10, wrong type, event, processing id, version
- [x] error (AE/CE): non-numeric / non-NM / repeated value, bad times, fraction > 1, bubble not 0/1,
      segment sequence (OBX before OBR, no OBR, two PIDs, second MSH, garbage line), empty OBX-3
- [x] escape sequences are decoded (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\X..\\), formatting escapes dropped
- [x] triage: accepted with some unmapped OBX; nothing mappable → AE 103; rejected keeps a best-effort header
- [x] ack_code: original vs enhanced mode (MSH-15), forced per sender
- [x] build_ack: swapped MSH, new control id, copied version and processing id, MSA-2, ERR fields, escaping,
      an ACK even for unreadable input
- [x] code_map_from_mapping validates site entries
- [x] fuzzing: nothing raises but HL7Error, and every input gets an ACK
- [x] the fast splitter gives python-hl7's fields, repetitions and components; coinciding separators go to
      python-hl7
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecmo_core import hl7v2
from ecmo_core.errors import InputError
from ecmo_core.hl7v2 import (
    DEFAULT_CODE_MAP,
    CodeMapping,
    HL7Error,
    Location,
    MessageHeader,
    Observation,
    Outcome,
    PatientId,
    Unmapped,
    ack_code,
    build_ack,
    code_map_from_mapping,
    parse_hl7_timestamp,
    parse_oru,
    read_header,
    triage,
)

EUI = "0A1B2C3D4E5F6071"
DEVICE = f"{EUI}^ACME_ECLS^{EUI}^EUI-64"
T_OBS = datetime(2025, 1, 1, 11, 59, 55, tzinfo=UTC)
NOW = datetime(2025, 1, 1, 12, 0, 1, tzinfo=UTC)


def msh(
    *,
    control_id: str = "SYN0001",
    msg_type: str = "ORU^R01^ORU_R01",
    processing: str = "P",
    version: str = "2.6",
    accept: str = "AL",
    app: str = "NE",
    time: str = "20250101120000+0000",
) -> str:
    return (
        f"MSH|^~\\&|ACME_ECLS^{EUI}^EUI-64||ECMO_STEWARD||{time}||{msg_type}|{control_id}|{processing}|{version}"
        f"|||{accept}|{app}||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
    )


PV1 = "PV1||I|ICU^^BED07"
OBR = (
    f"OBR|1|SYN0001^ACME_ECLS^{EUI}^EUI-64|SYN0001^ACME_ECLS^{EUI}^EUI-64"
    "|182777000^monitoring of patient^SCT|||20250101120000+0000"
)


def obx(
    n: int,
    code: str,
    value: str,
    unit: str = "",
    *,
    sub: str = "1.1.1.1",
    status: str = "R",
    time: str = "20250101115955+0000",
    value_type: str = "NM",
    method: str = "AMEAS^auto-measurement^MDC",
    device: str = DEVICE,
) -> str:
    return f"OBX|{n}|{value_type}|{code}|{sub}|{value}|{unit}|||||{status}|||{time}|||{method}|{device}"


# The synthetic example of DD §4, verbatim.
SYN_OBX = (
    obx(1, "blood_flow_l_min^ECMO blood flow^99ECMO", "4.20", "L/min^L/min^UCUM"),
    obx(2, "150016^MDC_PRESS_BLD^MDC", "-62", "266016^MDC_DIM_MMHG^MDC", sub="1.1.2.1"),
    obx(
        3,
        "fdo2^Sweep gas O2 fraction^99ECMO",
        "100",
        "262688^MDC_DIM_PERCENT^MDC",
        sub="1.1.3.1",
        method="MSET^manual-setting^MDC",
    ),
)


def message(*segments: str, sep: str = "\r") -> str:
    return sep.join(segments) + sep


SYN = message(msh(), PV1, OBR, *SYN_OBX)


def only(parsed: hl7v2.ParsedMessage) -> Observation:
    assert len(parsed.observations) == 1, parsed
    return parsed.observations[0]


def one_obx(obx_segment: str, **kwargs: object) -> hl7v2.ParsedMessage:
    return parse_oru(message(msh(), OBR, obx_segment), **kwargs)  # type: ignore[arg-type]


def raises(text: str, code: int, location: str, *, rejected: bool = False, **kwargs: object) -> HL7Error:
    with pytest.raises(HL7Error) as info:
        parse_oru(text, **kwargs)  # type: ignore[arg-type]
    assert (info.value.code, info.value.location, info.value.rejected) == (code, location, rejected), (
        info.value
    )
    return info.value


def fields(ack: str) -> dict[str, list[str]]:
    assert ack.endswith("\r")
    segments = ack[:-1].split("\r")
    return {seg[:3]: seg.split("|") for seg in segments}


# --- the DD example ---------------------------------------------------------------------------------------


def test_it_parses_the_synthetic_pcd01_example_of_device_data() -> None:
    parsed = parse_oru(SYN)

    assert parsed.header == MessageHeader(
        sending_application=f"ACME_ECLS^{EUI}^EUI-64",
        receiving_application="ECMO_STEWARD",
        message_time="20250101120000+0000",
        message_type="ORU^R01^ORU_R01",
        message_code="ORU",
        trigger_event="R01",
        control_id="SYN0001",
        processing_id="P",
        version="2.6",
        accept_ack_type="AL",
        application_ack_type="NE",
        character_set="UNICODE UTF-8",
    )
    assert (parsed.control_id, parsed.sending_application, parsed.sending_facility) == (
        "SYN0001",
        f"ACME_ECLS^{EUI}^EUI-64",
        "",
    )
    assert (parsed.message_type, parsed.version, parsed.processing_id) == ("ORU^R01^ORU_R01", "2.6", "P")
    assert (parsed.accept_ack_type, parsed.application_ack_type) == ("AL", "NE")
    assert parsed.dedupe_key == (f"ACME_ECLS^{EUI}^EUI-64", "SYN0001")
    assert parsed.message_time == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parsed.patient_ids == ()
    assert parsed.location == Location(point_of_care="ICU", room="", bed="BED07", facility="")
    assert parsed.device_ids == (EUI,)
    assert parsed.observations == (
        Observation(
            "blood_flow_l_min",
            4.2,
            "L/min",
            T_OBS,
            "99ECMO:blood_flow_l_min",
            1,
            "1.1.1.1",
            EUI,
            "AMEAS",
            "R",
        ),
        Observation("fdo2", 1.0, "1", T_OBS, "99ECMO:fdo2", 3, "1.1.3.1", EUI, "MSET", "R"),
    )
    assert parsed.unmapped == (
        Unmapped(
            "150016",
            "MDC",
            "OBX 2: MDC 150016 means several circuit or patient sites; map it per OBX-4 channel in the "
            "site code map",
            2,
        ),
    )
    assert parsed.observations[0].observed_at.tzinfo is UTC


def test_it_maps_the_generic_mdc_pressure_only_through_a_site_channel_entry() -> None:
    site = code_map_from_mapping({"MDC^150016^1.1.2": "access_pressure_mmhg"})

    parsed = parse_oru(SYN, code_map=site)

    assert [(o.parameter, o.value, o.unit, o.obx_index) for o in parsed.observations] == [
        ("blood_flow_l_min", 4.2, "L/min", 1),
        ("access_pressure_mmhg", -62.0, "mm[Hg]", 2),  # negative is normal: never clamped
        ("fdo2", 1.0, "1", 3),
    ]
    assert parsed.unmapped == ()


def test_it_uses_the_longest_matching_obx4_channel_prefix() -> None:
    site = code_map_from_mapping(
        {"MDC^150016^1.1": "pre_oxygenator_pressure_mmhg", "MDC^MDC_PRESS_BLD^1.1.2": "access_pressure_mmhg"}
    )
    text = message(
        msh(),
        OBR,
        obx(1, "150016^MDC_PRESS_BLD^MDC", "-40", "mm[Hg]", sub="1.1.2.1"),
        obx(
            2, "150016^MDC_PRESS_BLD^MDC", "250", "mm[Hg]", sub="1.1.3.150016"
        ),  # metric code in the last place
        obx(3, "150016^MDC_PRESS_BLD^MDC", "250", "mm[Hg]", sub="2.1.1.1"),
        obx(4, "150016^MDC_PRESS_BLD^MDC", "250", "mm[Hg]", sub="venous"),  # not a dotted id: no channel
    )

    parsed = parse_oru(text, code_map=site)

    assert [(o.parameter, o.sub_id) for o in parsed.observations] == [
        ("access_pressure_mmhg", "1.1.2.1"),
        ("pre_oxygenator_pressure_mmhg", "1.1.3.150016"),
    ]
    assert [u.obx_index for u in parsed.unmapped] == [3, 4]


# --- codes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "unit", "parameter", "expected", "source"),
    [
        (
            "159764^MDC_CONC_HB_ART^MDC",
            "11.2",
            "264256^MDC_DIM_X_G_PER_DL^MDC",
            "hemoglobin_g_dl",
            11.2,
            "MDC:159764",
        ),
        (
            "^MDC_CONC_HCT_GEN^MDC",
            "35",
            "262688^MDC_DIM_PERCENT^MDC",
            "hematocrit",
            0.35,
            "MDC:MDC_CONC_HCT_GEN",
        ),
        ("MDC_PULS_OXIM_SAT_O2", "97", "%", "spo2", 0.97, "MDC:MDC_PULS_OXIM_SAT_O2"),
        ("150456^MDC_PULS_OXIM_SAT_O2", "96", "%", "spo2", 0.96, "MDC:150456"),
        ("X1^Flow^99ACME^blood_flow_l_min^^99ECMO", "3.9", "L/min", "blood_flow_l_min", 3.9, "99ACME:X1"),
        ("19224-5^SvO2^LOINC", "0.68", "1", "mixed_venous_so2", 0.68, "LN:19224-5"),
        ("251288004^ECLS flow^SCT", "4100", "mL/min", "blood_flow_l_min", 4.1, "SCT:251288004"),
        ("721-1^Free Hb^LN", "0.2", "g/L", "plasma_free_hb_mg_dl", 20.0, "LN:721-1"),
        ("14804-9^LDH^LN", "5", "ukat/L", "ldh_u_l", 300.0, "LN:14804-9"),
        ("3255-7^Fibrinogen^LN", "2.5", "g/L", "fibrinogen_mg_dl", 250.0, "LN:3255-7"),
        ("777-3^Platelets^LN", "150", "10*9/L", "platelets_10e3_ul", 150.0, "LN:777-3"),
        ("718-7^Hb^LN", "112", "g/L", "hemoglobin_g_dl", 11.2, "LN:718-7"),
        (
            "pump_speed_rpm^Pump speed^99ecmo",
            "3500",
            "rpm",
            "pump_speed_rpm",
            3500.0,
            "99ECMO:pump_speed_rpm",
        ),
        ("sweep_gas_l_min^^99ECMO", "2.5", "lpm", "sweep_gas_l_min", 2.5, "99ECMO:sweep_gas_l_min"),
        (
            "post_oxygenator_pressure_mmhg^^99ECMO",
            "230",
            "^mmHg",
            "post_oxygenator_pressure_mmhg",
            230.0,
            "99ECMO:post_oxygenator_pressure_mmhg",
        ),
        (
            "blood_temperature_c^^99ECMO",
            "36.6",
            "268192^MDC_DIM_DEGC^MDC",
            "blood_temperature_c",
            36.6,
            "99ECMO:blood_temperature_c",
        ),
        ("bubble_detected^^99ECMO", "1", "", "bubble_detected", 1.0, "99ECMO:bubble_detected"),
        ("aptt_s^^99ECMO", "+62.", "s", "aptt_s", 62.0, "99ECMO:aptt_s"),
        ("act_s^^99ECMO", ".5", "sec", "act_s", 0.5, "99ECMO:act_s"),
    ],
)
def test_it_maps_mdc_local_loinc_and_snomed_codes_and_converts_units(
    code: str, value: str, unit: str, parameter: str, expected: float, source: str
) -> None:
    observation = only(one_obx(obx(1, code, value, unit)))

    assert (observation.parameter, observation.unit, observation.source_code) == (
        parameter,
        hl7v2.PARAMETER_UNITS[parameter],
        source,
    )
    assert observation.value == expected


def test_it_converts_kpa_to_mmhg_by_the_definition_of_the_atmosphere() -> None:
    observation = only(one_obx(obx(1, "2703-7^PaO2^LN", "13.3", "kPa")))

    assert observation.parameter == "arterial_po2_mmhg"
    assert math.isclose(observation.value, 13.3 * 760 / 101.325, rel_tol=1e-12)  # 99.76 mmHg


def test_it_derives_mdc_numbers_as_partition_times_65536_plus_term_code() -> None:
    # DD §1.1: partition 2 (observations) adds 131 072, partition 4 (units) adds 262 144.
    assert 2 * 65536 + 19384 == 150456  # MDC_PULS_OXIM_SAT_O2 [DD S6]
    assert DEFAULT_CODE_MAP[("MDC", "150456")] == DEFAULT_CODE_MAP[("MDC", "MDC_PULS_OXIM_SAT_O2")]
    assert 4 * 65536 + 3872 == 266016  # MDC_DIM_MMHG
    assert only(one_obx(obx(1, "pre_oxygenator_pressure_mmhg^^99ECMO", "250", "266016"))).unit == "mm[Hg]"


def test_it_maps_every_local_parameter_code_onto_itself() -> None:
    for parameter, unit in hl7v2.PARAMETER_UNITS.items():
        assert DEFAULT_CODE_MAP[("99ECMO", parameter)] == CodeMapping(parameter, unit, 1.0)


def test_it_lists_unknown_private_systemless_and_context_needing_codes_as_unmapped() -> None:
    text = message(
        msh(),
        OBR,
        obx(1, "147842^MDC_ECG_HEART_RATE^MDC", "80", "264864^MDC_DIM_BEAT_PER_MIN^MDC"),
        obx(2, "63860^NOM_FLOW_PUMP_HEART_LUNG_MAIN^MDC", "4.1"),  # term 0xF974: private (DD §1.3)
        obx(3, f"{2 * 65536 + 0xF974}^^MDC", "4.1"),
        obx(4, "FLOW^Flow", "4.1"),
        obx(5, "11556-8^PO2 blood^LN", "180", "mm[Hg]"),
        obx(6, "MDC_ATTR_X^^MDC", "1"),
    )

    parsed = parse_oru(text)

    assert parsed.observations == ()
    assert [(u.code, u.system, u.reason, u.obx_index) for u in parsed.unmapped] == [
        ("147842", "MDC", "OBX 1: code not in the code map", 1),
        (
            "63860",
            "MDC",
            "OBX 2: MDC 63860 is a manufacturer-private code; map it explicitly in the site code map",
            2,
        ),
        (
            str(2 * 65536 + 0xF974),
            "MDC",
            f"OBX 3: MDC {2 * 65536 + 0xF974} is a manufacturer-private code; map "
            "it explicitly in the site code map",
            3,
        ),
        ("FLOW", "", "OBX 4: OBX-3 names no coding system", 4),
        (
            "11556-8",
            "LN",
            "OBX 5: LN 11556-8 is an unspecified-blood code that needs the specimen source "
            "(PRE_OXY/POST_OXY); map it per OBX-4 channel in the site code map",
            5,
        ),
        ("MDC_ATTR_X", "MDC", "OBX 6: code not in the code map", 6),
    ]


def test_it_lets_a_site_map_a_private_code_explicitly() -> None:
    site = code_map_from_mapping({"mdc^63860": {"parameter": "blood_flow_l_min", "scale": 0.001}})

    observation = only(one_obx(obx(1, "63860^NOM_FLOW_PUMP_HEART_LUNG_MAIN^MDC", "4100"), code_map=site))

    assert (observation.parameter, observation.value, observation.source_code) == (
        "blood_flow_l_min",
        4.1,
        "MDC:63860",
    )


# --- separators, segments, identities ---------------------------------------------------------------------


def test_it_reads_cr_lf_and_crlf_separators_alike() -> None:
    by_cr = parse_oru(SYN)

    assert parse_oru(message(msh(), PV1, OBR, *SYN_OBX, sep="\n")) == by_cr
    assert parse_oru(message(msh(), PV1, OBR, *SYN_OBX, sep="\r\n")) == by_cr
    assert parse_oru("\ufeff\x0b" + message(msh(), "", PV1, "   ", OBR, *SYN_OBX) + "\x1c\r\n\n") == by_cr


def test_it_tolerates_an_absent_or_empty_pid_and_reads_every_pid3_repetition() -> None:
    assert parse_oru(message(msh(), "PID", OBR, SYN_OBX[0])).patient_ids == ()
    assert parse_oru(message(msh(), "PID|||", PV1, OBR, SYN_OBX[0])).patient_ids == ()

    parsed = parse_oru(
        message(msh(), "PID|||12345^^^HOSP&1.2.3&ISO^MR~^^^EMPTY~67890^^^NHS^NH||Doe^Jane", OBR, SYN_OBX[0])
    )

    assert parsed.patient_ids == (PatientId("12345", "HOSP", "MR"), PatientId("67890", "NHS", "NH"))
    assert parsed.location == Location()


def test_it_takes_the_device_from_obx18_else_from_the_obr_eui64() -> None:
    text = message(
        msh(),
        "OBR|1||ORD1^GW^FEDCBA9876543210^EUI-64|182777000^monitoring of patient^SCT|||20250101120000+0000",
        obx(1, "blood_flow_l_min^^99ECMO", "4.2", device=""),
        obx(2, "pump_speed_rpm^^99ECMO", "3500", device=f"^ACME_ECLS^{EUI}^EUI-64"),
        obx(3, "sweep_gas_l_min^^99ECMO", "2", device=f"^ACME_ECLS^{EUI}^EUI-64"),
        "OBR|2|ORD2^GW^1111111111111111^EUI-64||182777000^monitoring of patient^SCT",
        obx(4, "fdo2^^99ECMO", "0.5", device="", time=""),
        "OBR|3|ORD3^GW||182777000^monitoring of patient^SCT|||20250101115000+0000",
        obx(5, "fdo2^^99ECMO", "0.6", device="", time=""),
    )

    parsed = parse_oru(text)

    assert [o.device_id for o in parsed.observations] == [
        "FEDCBA9876543210",
        EUI,
        EUI,
        "1111111111111111",
        "",
    ]
    assert parsed.device_ids == ("FEDCBA9876543210", EUI, "1111111111111111")
    assert [o.observed_at for o in parsed.observations][3:] == [
        datetime(2025, 1, 1, 12, 0, tzinfo=UTC),  # OBR 2 has no OBR-7: MSH-7, not OBR 1's time
        datetime(2025, 1, 1, 11, 50, tzinfo=UTC),  # OBR 3's OBR-7
    ]


def test_it_ignores_unknown_segments_and_device_tree_rows() -> None:
    text = message(
        msh(),
        "SFT|ACME",
        "PID|||",
        PV1,
        "ORC|RE",
        OBR,
        "NTE|1||comment",
        obx(1, "70686^MDC_DEV_ECLS_MDS^MDC", "", sub="1", status="X", value_type=""),
        obx(2, "70687^MDC_DEV_PUMP_VMD^MDC", "", sub="1.1", status="X", value_type=""),
        obx(3, "blood_flow_l_min^^99ECMO", "4.2", status="F"),
        obx(4, "fdo2^^99ECMO", "", status="F"),  # empty value: nothing measured
        obx(5, "fdo2^^99ECMO", "0.5", status="N"),  # not asked
        "ZEC|private",
    )

    parsed = parse_oru(text)

    assert [o.parameter for o in parsed.observations] == ["blood_flow_l_min"]
    assert parsed.unmapped == ()
    assert parsed.device_ids == (EUI,)


@pytest.mark.parametrize("status", ["", "F", "R", "P", "C", "S", "U", "A", "B", "f"])
def test_it_stores_values_of_every_result_status(status: str) -> None:
    assert only(one_obx(obx(1, "fdo2^^99ECMO", "0.5", status=status))).status == status.upper()


@pytest.mark.parametrize("status", ["D", "W"])
def test_it_lists_retractions_for_review_rather_than_applying_them(status: str) -> None:
    parsed = one_obx(obx(1, "fdo2^^99ECMO", "0.5", status=status))

    assert parsed.observations == ()
    assert parsed.unmapped == (
        Unmapped("fdo2", "99ECMO", f"OBX 1: status {status} retracts a result; review it by hand", 1),
    )


def test_it_decodes_escape_sequences() -> None:
    text = message(
        msh(control_id="ID\\F\\1"),
        "PID|||A\\S\\B\\T\\C\\R\\D\\E\\E\\X41\\\\H\\F\\N\\^^^HOSP^MR",
        "PV1||I|ICU\\.br\\2^^BED\\X3037\\^x\\",
        OBR,
        SYN_OBX[0],
    )

    parsed = parse_oru(text)

    assert parsed.control_id == "ID|1"
    assert parsed.patient_ids == (PatientId("A^B&C~D\\EAF", "HOSP", "MR"),)
    assert parsed.location == Location("ICU2", "", "BED07", "x\\")


# --- times --------------------------------------------------------------------------------------------------


def test_it_takes_the_time_from_obx14_else_obr7_else_msh7() -> None:
    text = message(
        msh(time="202501011200+0100"),
        "OBR|1|||182777000^monitoring of patient^SCT|||20250101114500.25+0000",
        obx(1, "fdo2^^99ECMO", "0.5", time="20250101115955.1234-0500"),
        obx(2, "fdo2^^99ECMO", "0.5", time=""),
        "OBR|2|||182777000^monitoring of patient^SCT",
        obx(3, "fdo2^^99ECMO", "0.5", time=""),
        obx(4, "fdo2^^99ECMO", "0.5", time="20250101115955"),  # no offset: MSH-7's +0100
    )

    times = [o.observed_at for o in parse_oru(text).observations]

    assert times == [
        datetime(2025, 1, 1, 16, 59, 55, 123400, tzinfo=UTC),
        datetime(2025, 1, 1, 11, 45, 0, 250000, tzinfo=UTC),
        datetime(2025, 1, 1, 11, 0, tzinfo=UTC),
        datetime(2025, 1, 1, 10, 59, 55, tzinfo=UTC),
    ]
    assert all(t.tzinfo is UTC for t in times)


def test_it_reads_times_without_any_offset_in_default_tz() -> None:
    text = message(msh(time="20250701120000"), OBR, obx(1, "fdo2^^99ECMO", "0.5", time="20250701115955"))

    in_utc = parse_oru(text)
    in_berlin = parse_oru(text, default_tz=ZoneInfo("Europe/Berlin"))

    assert only(in_utc).observed_at == datetime(2025, 7, 1, 11, 59, 55, tzinfo=UTC)
    assert only(in_berlin).observed_at == datetime(2025, 7, 1, 9, 59, 55, tzinfo=UTC)  # CEST = UTC+2
    assert in_berlin.message_time == datetime(2025, 7, 1, 10, 0, tzinfo=UTC)


def test_it_refuses_an_observation_without_any_time() -> None:
    raises(message(msh(time=""), "OBR|1", obx(1, "fdo2^^99ECMO", "0.5", time="")), 101, "OBX^1^14")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("202501011200", datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),
        ("20250101120059.5", datetime(2025, 1, 1, 12, 0, 59, 500000, tzinfo=UTC)),
        ("20250101120059.123456+0530", datetime(2025, 1, 1, 6, 30, 59, 123456, tzinfo=UTC)),
        (" 20250101120000-0000 ", datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),
        ("20250101003000-2359", datetime(2025, 1, 2, 0, 29, tzinfo=UTC)),
    ],
)
def test_it_parses_hl7_timestamps_into_aware_utc(value: str, expected: datetime) -> None:
    parsed = parse_hl7_timestamp(value)

    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_it_applies_default_tz_to_a_timestamp_without_offset() -> None:
    assert parse_hl7_timestamp("202501011200", default_tz=timezone(timedelta(hours=-3))) == datetime(
        2025, 1, 1, 15, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "20250101",
        "2025010112",
        "20251301120000",
        "20250230120000",
        "20250101250000",
        "20250101120000+2400",
        "20250101120000+0060",
        "20250101120000Z",
        "20250101120000.1234567",
        "2025-01-01T12:00:00",
    ],
)
def test_it_refuses_malformed_timestamps(value: str) -> None:
    with pytest.raises(HL7Error) as info:
        parse_hl7_timestamp(value)

    assert info.value.code == 102


def test_it_refuses_bad_times_in_msh7_obr7_and_obx14() -> None:
    raises(message(msh(time="2025"), OBR, SYN_OBX[0]), 102, "MSH^1^7")
    raises(message(msh(), "OBR|1|||x|||2025013", SYN_OBX[0]), 102, "OBR^1^7")
    raises(
        message(msh(), OBR, SYN_OBX[0], obx(2, "fdo2^^99ECMO", "0.5", time="20250101246000")), 102, "OBX^2^14"
    )


# --- rejections and errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "location"),
    [
        ("", 100, "MSH^1"),
        ("PID|||123\rOBR|1\r", 100, "MSH^1"),
        ("FHS|^~\\&\rBHS|^~\\&\r" + SYN, 100, "FHS^1"),
        ("BHS|^~\\&\r" + SYN + "BTS|1\r", 100, "BHS^1"),
        ("MSH", 102, "MSH^1^2"),
        ("MSH|^~\\&", 102, "MSH^1^2"),
        ("MSH|^^\\&|A", 102, "MSH^1^2"),
        ("MSH|^~a&|A", 102, "MSH^1^2"),
        ("MSH|^|A", 102, "MSH^1^2"),
        ("MSH|^~\\&#!|A", 102, "MSH^1^2"),
        # found by fuzzing: three encoding characters python-hl7 cannot plan a split with (it asserted)
        ("MSH|^&~|ACME||EC||20250101120000+0000||ORU^R01|S6|P|2.6\rPID|||1", 102, "MSH^1^2"),
        (message(msh(control_id=""), OBR, SYN_OBX[0]), 101, "MSH^1^10"),
        (message(msh(msg_type="ADT^A01^ADT_A01"), PV1), 200, "MSH^1^9"),
        (message(msh(msg_type="ORU^R30"), OBR, SYN_OBX[0]), 201, "MSH^1^9"),
        (message(msh(msg_type="ORU"), OBR, SYN_OBX[0]), 201, "MSH^1^9"),
        (message(msh(processing="X"), OBR, SYN_OBX[0]), 202, "MSH^1^11"),
        (message(msh(version="3.0"), OBR, SYN_OBX[0]), 203, "MSH^1^12"),
        (message(msh(version="2.2"), OBR, SYN_OBX[0]), 203, "MSH^1^12"),
        (message(msh(version=""), OBR, SYN_OBX[0]), 203, "MSH^1^12"),
    ],
)
def test_it_rejects_what_cannot_be_processed_as_an_oru_r01(text: str, code: int, location: str) -> None:
    error = raises(text, code, location, rejected=True)

    assert error.outcome is Outcome.REJECTED


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.5.1", "2.8.2", "2.9"])
def test_it_accepts_versions_2_3_to_2_9(version: str) -> None:
    assert parse_oru(message(msh(version=version, processing="T"), OBR, SYN_OBX[0])).version == version


@pytest.mark.parametrize(
    ("segments", "code", "location"),
    [
        ((OBR, obx(1, "fdo2^^99ECMO", "abc")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "1e-1")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "NaN")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "0.5~0.6")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "0.5^x")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "0.5&1")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "0.5", value_type="ST")), 102, "OBX^1^2"),
        ((OBR, obx(1, "bubble_detected^^99ECMO", "1^yes^HL70136", value_type="CWE")), 102, "OBX^1^2"),
        ((OBR, obx(1, "fdo2^^99ECMO", ">^0.5", value_type="SN")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "^0.4^-^0.6", value_type="SN")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "^0.5~^0.6", value_type="SN")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "0.5", value_type="SN")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "^abc", value_type="SN")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "100", "1")), 102, "OBX^1^5"),
        ((OBR, obx(1, "fdo2^^99ECMO", "-0.1")), 102, "OBX^1^5"),
        ((OBR, obx(1, "hematocrit^^99ECMO", "35")), 102, "OBX^1^5"),
        ((OBR, obx(1, "bubble_detected^^99ECMO", "2")), 102, "OBX^1^5"),
        ((OBR, obx(1, "bubble_detected^^99ECMO", "0.5")), 102, "OBX^1^5"),
        ((OBR, obx(1, "blood_flow_l_min^^99ECMO", "4.2", "furlongs/fortnight")), 103, "OBX^1^6"),
        ((OBR, obx(1, "blood_flow_l_min^^99ECMO", "4.2", "mm[Hg]")), 103, "OBX^1^6"),
        ((OBR, obx(1, "fdo2^^99ECMO", "0.5", status="Z")), 103, "OBX^1^11"),
        ((OBR, obx(1, "^^99ECMO", "0.5")), 101, "OBX^1^3"),
        ((obx(1, "fdo2^^99ECMO", "0.5"), OBR), 100, "OBX^1"),
        ((PV1,), 100, "OBR^1"),
        (("PID|||1", "PID|||2", OBR), 100, "PID^2"),
        ((PV1, PV1, OBR), 100, "PV1^2"),
        ((OBR, SYN_OBX[0], msh(control_id="SYN0002"), OBR, SYN_OBX[0]), 100, "MSH^2"),
        ((OBR, "this is not a segment", SYN_OBX[0]), 100, ""),
        ((OBR, "obx|1|NM|fdo2^^99ECMO|1|0.5"), 100, ""),
    ],
)
def test_it_refuses_bad_content_with_an_error_not_a_reject(
    segments: tuple[str, ...], code: int, location: str
) -> None:
    error = raises(message(msh(), *segments), code, location)

    assert error.outcome is Outcome.ERROR


@pytest.mark.parametrize("value", ["^0.5", "=^0.5", " = ^0.5^^"])
def test_it_reads_a_structured_numeric_that_states_one_value(value: str) -> None:
    parsed = one_obx(obx(1, "fdo2^^99ECMO", value, value_type="SN"))

    assert [o.value for o in parsed.observations] == [0.5]


def test_it_names_the_batch_header_when_it_refuses_a_batch() -> None:
    error = raises("FHS|^~\\&|GW\rBHS|^~\\&|GW\r" + SYN + "BTS|1\rFTS|1\r", 100, "FHS^1", rejected=True)

    assert "send each message in its own MLLP frame" in error.message


def test_it_says_fraction_when_a_percentage_arrives_as_a_fraction() -> None:
    error = raises(message(msh(), OBR, obx(1, "fdo2^^99ECMO", "100", "1")), 102, "OBX^1^5")

    assert "fraction" in error.message


def test_it_checks_values_only_of_mapped_codes() -> None:
    parsed = one_obx(obx(1, "999^Alarm text^99ACME", "pump stop", "furlongs", value_type="ST", time="bad"))

    assert parsed.unmapped == (Unmapped("999", "99ACME", "OBX 1: code not in the code map", 1),)


# --- triage and acknowledgements ----------------------------------------------------------------------------


def test_it_triages_a_message_with_some_unmapped_codes_as_accepted() -> None:
    result = triage(SYN)

    assert (result.outcome, result.error, result.dead_letter) == (Outcome.ACCEPTED, None, False)
    assert result.parsed == parse_oru(SYN)
    assert result.header == result.parsed.header


def test_it_triages_a_message_with_nothing_mappable_as_an_error_for_the_dead_letter_table() -> None:
    text = message(msh(), OBR, obx(1, "fdo2^^99ECMO", "", status="X"), SYN_OBX[1], obx(3, "1^x^99ACME", "1"))

    result = triage(text)

    assert (result.outcome, result.dead_letter) == (Outcome.ERROR, True)
    assert result.parsed is not None and result.parsed.observations == ()
    assert result.error is not None
    assert (result.error.code, result.error.location) == (103, "OBX^2^3")
    assert result.error.message.startswith("no OBX could be mapped (MDC:150016, 99ACME:1); OBX 2: MDC 150016")


def test_it_accepts_a_message_that_only_describes_the_device_tree() -> None:
    text = message(msh(), OBR, obx(1, "70686^MDC_DEV_ECLS_MDS^MDC", "", sub="1", status="X"))

    result = triage(text)

    assert result.outcome is Outcome.ACCEPTED
    assert result.parsed is not None and result.parsed.observations == ()


def test_it_triages_malformed_input_with_a_best_effort_header() -> None:
    result = triage(message(msh(version="3.0", control_id="SYN0002"), OBR))

    assert (result.outcome, result.parsed, result.dead_letter) == (Outcome.REJECTED, None, True)
    assert result.error is not None and result.error.code == 203
    assert (result.header.control_id, result.header.version) == ("SYN0002", "3.0")


@pytest.mark.parametrize(
    ("outcome", "accept", "mode", "expected"),
    [
        (Outcome.ACCEPTED, "", "auto", "AA"),
        (Outcome.ERROR, "", "auto", "AE"),
        (Outcome.REJECTED, "", "auto", "AR"),
        (Outcome.ACCEPTED, "NE", "auto", "AA"),
        (Outcome.ACCEPTED, "AL", "auto", "CA"),
        (Outcome.ERROR, "ER", "auto", "CE"),
        (Outcome.REJECTED, "SU", "auto", "CR"),
        ("accepted", "AL", "original", "AA"),
        ("error", "", "enhanced", "CE"),
    ],
)
def test_it_chooses_original_or_enhanced_mode_from_msh15_or_the_sender_setting(
    outcome: Outcome | str, accept: str, mode: hl7v2.AckMode, expected: str
) -> None:
    text = message(msh(accept=accept), OBR, SYN_OBX[0])

    assert ack_code(outcome, text, mode=mode) == expected
    assert ack_code(outcome, read_header(text), mode=mode) == expected
    assert ack_code(outcome, parse_oru(text), mode=mode) == expected


def test_it_builds_the_accept_ack_of_the_synthetic_example() -> None:
    parsed = parse_oru(SYN)

    ack = build_ack(parsed, code=ack_code(Outcome.ACCEPTED, parsed), now=NOW, control_id="ACK0001")

    assert ack == (
        f"MSH|^~\\&|ECMO_STEWARD||ACME_ECLS^{EUI}^EUI-64||20250101120001+0000||ACK^R01^ACK|ACK0001|P|2.6\r"
        "MSA|CA|SYN0001\r"
    )


def test_it_builds_the_version_reject_of_device_data() -> None:
    text = message(msh(control_id="SYN0002", version="2.1"), OBR)
    result = triage(text)

    ack = fields(build_ack(text, code=ack_code(result.outcome, text), error=result.error, now=NOW))

    assert ack["MSH"][:12] == [
        "MSH",
        "^~\\&",
        "ECMO_STEWARD",
        "",
        f"ACME_ECLS^{EUI}^EUI-64",
        "",
        "20250101120001+0000",
        "",
        "ACK^R01^ACK",
        ack["MSH"][9],
        "P",
        "2.1",
    ]
    assert ack["MSA"] == ["MSA", "CR", "SYN0002", "version 2.1 is not 2.3 to 2.9"]
    assert ack["ERR"] == [
        "ERR",
        "",
        "MSH^1^12",
        "203^Unsupported version id^HL70357",
        "E",
        "",
        "",
        "",
        "version 2.1 is not 2.3 to 2.9",
    ]


def test_it_builds_an_original_mode_error_ack_with_the_obx_location() -> None:
    text = message(msh(accept="", app=""), OBR, obx(1, "fdo2^^99ECMO", "abc"))
    result = triage(text)

    ack = fields(build_ack(text, code=ack_code(result.outcome, text), error=result.error, now=NOW))

    assert ack["MSA"][:3] == ["MSA", "AE", "SYN0001"]
    assert ack["ERR"][2:5] == ["OBX^1^5", "102^Data type error^HL70357", "E"]


def test_it_makes_a_new_control_id_from_the_original_and_the_time() -> None:
    first = fields(build_ack(SYN, code="CA", now=NOW))["MSH"][9]
    again = fields(build_ack(SYN, code="CA", now=NOW))["MSH"][9]
    later = fields(build_ack(SYN, code="CA", now=NOW + timedelta(microseconds=1)))["MSH"][9]

    assert first == again != later
    assert len(first) == 20 and first.startswith("A") and first != "SYN0001"


def test_it_acknowledges_input_whose_msh_is_unreadable_or_partial() -> None:
    garbage = fields(build_ack("hello\x00world", code="AR", error=triage("hello").error, now=NOW))
    partial = fields(build_ack("MSH|^~\\&|GW|WARD|||2025|", code="AR", error=HL7Error(100, "x"), now=NOW))

    assert garbage["MSH"][2:12] == [
        "ECMO_STEWARD",
        "",
        "",
        "",
        "20250101120001+0000",
        "",
        "ACK",
        garbage["MSH"][9],
        "P",
        "2.6",
    ]
    assert garbage["MSA"][:3] == ["MSA", "AR", ""]
    assert garbage["ERR"][2:4] == ["MSH^1", "100^Segment sequence error^HL70357"]
    assert partial["MSH"][2:6] == ["ECMO_STEWARD", "", "GW", "WARD"]
    assert partial["ERR"][2] == ""


def test_it_escapes_text_and_uses_the_receiving_application_of_the_message() -> None:
    text = SYN.replace("||ECMO_STEWARD||", "||STEWARD^ICU||")
    header = read_header(text)

    ack = build_ack(header, code="CE", text="bad | value ^ & ~ \\ here\r\nsecond line", now=NOW)

    assert ack.split("\r")[0].split("|")[2] == "STEWARD^ICU"
    assert ack.split("\r")[1] == "MSA|CE|SYN0001|bad \\F\\ value \\S\\ \\T\\ \\R\\ \\E\\ here second line"
    assert build_ack(text, code="CE", text="x", now=NOW) == build_ack(
        parse_oru(text), code="CE", text="x", now=NOW
    )


def test_it_converts_the_ack_time_to_utc() -> None:
    ack = build_ack(SYN, code="CA", now=datetime(2025, 1, 1, 13, 0, 1, tzinfo=ZoneInfo("Europe/Paris")))

    assert fields(ack)["MSH"][6] == "20250101120001+0000"


def test_it_refuses_an_unknown_ack_code_or_a_naive_now() -> None:
    with pytest.raises(InputError, match="code"):
        build_ack(SYN, code="OK", now=NOW)
    with pytest.raises(InputError, match="now"):
        build_ack(SYN, code="AA", now=datetime(2025, 1, 1, 12, 0))


def test_it_knows_hl7_error_codes_and_locations() -> None:
    assert HL7Error(207, "boom").location == ""
    assert HL7Error(100, "x", "OBX", sequence=3).location == "OBX^3"
    assert HL7Error(102, "x", "OBX", 5, sequence=3).location == "OBX^3^5"
    assert str(HL7Error(102, "x")) == "102 Data type error: x"
    with pytest.raises(ValueError, match="table 0357"):
        HL7Error(999, "x")


# --- site code map ------------------------------------------------------------------------------------------


def test_it_builds_a_site_code_map_on_top_of_the_default() -> None:
    site = code_map_from_mapping(
        {
            "MDC^150016^1.1.2": "access_pressure_mmhg",
            " loinc ^19224-5": {"parameter": "pre_oxygenator_so2"},
            "99ACME^DP": {"parameter": "membrane_delta_p_mmhg", "unit": "mm[Hg]", "scale": 1},
            "99ACME^HCT": {"parameter": "hematocrit_pct", "unit": "%"},
        }
    )

    assert site[("MDC", "150016", "1.1.2")] == CodeMapping("access_pressure_mmhg", "mm[Hg]", 1.0)
    assert site[("LN", "19224-5")] == CodeMapping("pre_oxygenator_so2", "1", 1.0)
    assert site[("99ACME", "DP")] == CodeMapping("membrane_delta_p_mmhg", "mm[Hg]", 1.0)
    assert site[("99ACME", "HCT")] == CodeMapping("hematocrit_pct", "%", 1.0)
    assert site[("99ECMO", "fdo2")] == DEFAULT_CODE_MAP[("99ECMO", "fdo2")]
    assert DEFAULT_CODE_MAP[("LN", "19224-5")].parameter == "mixed_venous_so2"  # the default is untouched
    assert only(one_obx(obx(1, "HCT^^99ACME", "35", "%"), code_map=site)).value == 35.0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"MDC": "fdo2"}, "code_map['MDC']"),
        ({"MDC^1^2^3": "fdo2"}, "code_map['MDC^1^2^3']"),
        ({"MDC^ ": "fdo2"}, "code_map['MDC^ ']"),
        ({"MDC^150016^bed 7": "fdo2"}, "code_map['MDC^150016^bed 7']"),
        ({"MDC^1": 3}, "code_map['MDC^1']"),
        ({"MDC^1": {"parameter": "fdo2", "units": "1"}}, "code_map['MDC^1']"),
        ({"MDC^1": "Blood Flow"}, "code_map['MDC^1'].parameter"),
        ({"MDC^1": {"unit": "1"}}, "code_map['MDC^1'].parameter"),
        ({"MDC^1": {"parameter": "fdo2", "unit": "%"}}, "code_map['MDC^1'].unit"),
        ({"MDC^1": {"parameter": "new_thing_x"}}, "code_map['MDC^1'].unit"),
        ({"MDC^1": {"parameter": "new_thing_x", "unit": "furlongs"}}, "code_map['MDC^1'].unit"),
        ({"MDC^1": {"parameter": "fdo2", "scale": 0}}, "code_map['MDC^1'].scale"),
        ({"MDC^1": {"parameter": "fdo2", "scale": "1"}}, "code_map['MDC^1'].scale"),
        ({"MDC^1": {"parameter": "fdo2", "scale": math.inf}}, "code_map['MDC^1'].scale"),
    ],
)
def test_it_refuses_bad_site_code_map_entries(data: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        code_map_from_mapping(data)

    assert info.value.field == field


# --- fuzzing ------------------------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "MSH",
        "|",
        "^",
        "~",
        "\\",
        "&",
        "\r",
        "\n",
        "OBR",
        "OBX",
        "PID",
        "NM",
        "X",
        "1.1",
        "4.2",
        "99ECMO",
        "MDC",
        "fdo2",
        "150016",
        "2025010112",
        "00",
        "+0100",
        "ORU",
        "R01",
        "2.6",
        "AL",
        "",
        " ",
        "\x0b",
        "\x1c",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(_PIECES, max_size=60).map("".join),
        st.lists(_PIECES, max_size=60).map(lambda parts: msh() + "\r" + OBR + "\r" + "".join(parts)),
    )
)
def test_it_raises_nothing_but_hl7error_and_acknowledges_any_input(text: str) -> None:
    result = triage(text)
    code = ack_code(result.outcome, result.header)
    ack = build_ack(result.header, code=code, error=result.error, now=NOW)

    assert ack.startswith("MSH|^~\\&|")
    assert ack.split("\r")[1].split("|")[1] == code
    assert (result.error is None) == (result.outcome is Outcome.ACCEPTED)


# --- splitting: the fast path agrees with python-hl7 --------------------------------------------------------

_MSH_PREFIXES = ("MSH|^~\\&|", "MSH|^~\\&#|", "MSH|^~|", "MSH#^~\\&#", "MSH|^~\\|")
_PIECES = st.text(alphabet="AB1 |^~\\&#X", max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(_MSH_PREFIXES),
    first=_PIECES,
    others=st.lists(
        st.tuples(st.sampled_from(["PID", "OBX", "MSH", "BHS", "OB", "MSHX"]), _PIECES), max_size=4
    ),
)
def test_it_splits_segments_exactly_as_python_hl7_does(
    prefix: str, first: str, others: list[tuple[str, str]]
) -> None:
    import hl7  # type: ignore[import-untyped]

    lines = [line.strip() for line in [prefix + first, *(name + rest for name, rest in others)]]
    lines = [line for line in lines if line]
    if not hl7v2._msh_prefix_ok(lines[0]):
        return
    fast = hl7v2._parse_segments(lines)
    tree = [hl7v2._TreeSegment(seg) for seg in hl7.parse("\r".join(lines))]
    assert [s.name for s in fast] == [s.name for s in tree]
    for mine, theirs in zip(fast, tree, strict=True):
        assert mine.structure_separators == theirs.structure_separators
        for n in range(1, 12):
            assert mine.raw(n) == theirs.raw(n)
            assert mine.repetitions(n) == theirs.repetitions(n)
            for repetition in (1, 2, 3):
                assert mine.components(n, repetition) == theirs.components(n, repetition)


def test_it_leaves_coinciding_separators_to_python_hl7() -> None:
    # MSH-2 "^&": the repetition separator is "&", and so is the default subcomponent separator.
    assert read_header("MSH|^&|ACME||EC").sending_application == "ACME"
    # Where python-hl7 cannot split such a message at all, the header is empty (and the message rejected).
    assert read_header("MSH|^&~|ACME||EC||20250101120000+0000||ORU^R01|S6") == hl7v2.MessageHeader()
