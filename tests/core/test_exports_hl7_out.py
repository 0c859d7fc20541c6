"""ecmo_core.exports.hl7_out and fhir.check_observation: a circuit check for the EHR.

- the ORU^R01 parses back with ecmo_core.hl7v2 (control id, values with their 99ECMO codes, UCUM units);
- PID carries the MRN, the pseudonym, the name and sex; delimiters in free text are escaped;
- an amended check has result status C; a bad control id or a naive time is refused;
- the ACK reader returns MSA-1 and MSA-2, or empty strings without an MSA;
- the standalone FHIR Observation validates, names the patient by MRN (else pseudonym) and the control id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from exports_fixtures import full_run, h
from fhir.resources.R4B.observation import Observation

from ecmo_core import hl7v2
from ecmo_core.errors import InputError
from ecmo_core.exports.fhir import check_observation
from ecmo_core.exports.hl7_out import check_oru, escape, read_ack
from ecmo_core.exports.records import CheckRecord, PatientRecord


def test_it_builds_an_oru_that_parses_back() -> None:
    run = full_run()
    check = replace(run.checks[0], notes="sites dry | no ooze")
    text = check_oru(check, patient=run.patient, control_id="ECMOH51V1", now=h(5))
    parsed = hl7v2.parse_oru(text)
    assert parsed.header.control_id == "ECMOH51V1"
    assert [(o.parameter, o.value, o.observed_at) for o in parsed.observations] == [
        ("blood_flow_l_min", 4.1, h(4))
    ]
    segments = text.split("\r")
    assert segments[1] == "PID|1||TEST-MRN-7^^^^MR~TEST-0007^^^ECMO_STEWARD^PI||Test Person|||F"
    assert segments[5].startswith("OBX|2|CWE|connectors_secure^connectors secure^99ECMO||Y^Yes^HL70136")
    assert segments[6] == "NTE|1||sites dry \\F\\ no ooze"
    assert text.endswith("\r")


def test_it_marks_an_amended_check_corrected() -> None:
    run = full_run()
    failed = replace(run.checks[0], items=(("air_in_circuit", False),), notes="")
    text = check_oru(failed, patient=PatientRecord("TEST-9"), control_id="X1", now=h(5), amended=True)
    lines = text.split("\r")
    assert lines[1] == "PID|1||^^^^MR~TEST-9^^^ECMO_STEWARD^PI|||||U"  # no name: PID-5 empty, PID-8 U
    assert lines[3].endswith("|C") and "|C|||" in lines[4]
    assert "N^No^HL70136" in lines[5] and not any(line.startswith("NTE") for line in lines)


@pytest.mark.parametrize("control_id", ["", "X" * 21])
def test_it_refuses_a_bad_control_id(control_id: str) -> None:
    run = full_run()
    with pytest.raises(InputError) as error:
        check_oru(run.checks[0], patient=run.patient, control_id=control_id, now=h(5))
    assert error.value.field == "control_id"


def test_it_refuses_naive_times() -> None:
    run = full_run()
    with pytest.raises(InputError):
        check_oru(run.checks[0], patient=run.patient, control_id="X", now=dt.datetime(2026, 1, 1))


def test_it_escapes_every_delimiter() -> None:
    assert escape("a|b^c&d~e\\f\rg\nh") == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f g h"


@pytest.mark.parametrize(
    ("ack", "expected"),
    [
        ("MSH|^~\\&|EHR\rMSA|AA|ECMOH51V1\r", ("AA", "ECMOH51V1")),
        ("MSH|^~\\&|EHR\nMSA|AE\n", ("AE", "")),
        ("MSH|^~\\&|EHR\rMSA\r", ("", "")),
        ("MSH|^~\\&|EHR\r", ("", "")),
    ],
)
def test_it_reads_acknowledgements(ack: str, expected: tuple[str, str]) -> None:
    assert read_ack(ack) == expected


def test_it_builds_a_standalone_fhir_observation() -> None:
    run = full_run()
    resource = check_observation(run.checks[0], patient=run.patient, control_id="ECMOF51V1")
    Observation.model_validate(resource)
    assert resource["identifier"] == [{"system": "urn:ecmo-steward:outbound", "value": "ECMOF51V1"}]
    assert resource["subject"] == {"identifier": {"system": "urn:ecmo-steward:mrn", "value": "TEST-MRN-7"}}
    assert resource["status"] == "final"
    anonymous = check_observation(
        CheckRecord(1, h(1)), patient=PatientRecord("TEST-9"), control_id="Y", amended=True
    )
    assert anonymous["subject"] == {
        "identifier": {"system": "urn:ecmo-steward:patient-code", "value": "TEST-9"}
    }
    assert anonymous["status"] == "amended"
