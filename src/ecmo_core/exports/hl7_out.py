"""Outbound HL7 v2.6 ORU^R01 for the EHR: an hourly circuit check as results (device-data §1.2, §4).

One message per check: MSH (MSH-10 = the outbox control id, which the receiver de-duplicates on), PID (MRN and
name: the EHR needs them to file the result), PV1, OBR (the check, with its time), one OBX per measured value
(local ``99ECMO`` code, UCUM unit, result status ``F`` or ``C`` for an amended check) and per inspection or
safety item (``CWE`` Y/N of table 0136), and NTE for the notes. Segments end in CR.
"""

from __future__ import annotations

import datetime as dt

from ecmo_core.errors import InputError
from ecmo_core.exports import codes
from ecmo_core.exports.records import CheckRecord, PatientRecord

_SEX = {"male": "M", "female": "F"}


def escape(text: str) -> str:
    """HL7 v2 escape sequences for the delimiters, so free text cannot break the message structure."""
    out = text.replace("\\", "\\E\\")
    for char, seq in (("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\")):
        out = out.replace(char, seq)
    return out.replace("\r", " ").replace("\n", " ")


def _ts(value: dt.datetime) -> str:
    if value.utcoffset() is None:
        raise InputError("observed_at", "must be a timezone-aware datetime")
    return value.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S+0000")


def _number(value: float) -> str:
    return f"{value:.6g}"


def check_oru(
    check: CheckRecord,
    *,
    patient: PatientRecord,
    control_id: str,
    now: dt.datetime,
    amended: bool = False,
    sending_application: str = "ECMO_STEWARD",
    sending_facility: str = "",
    receiving_application: str = "EHR",
    receiving_facility: str = "",
) -> str:
    """Build the ORU^R01 for one circuit check. ``control_id`` (MSH-10) must be unique per message and stable
    across resends of the same message; at most 20 characters (HL7 v2.6 MSH-10 length)."""
    if not control_id or len(control_id) > 20:
        raise InputError("control_id", f"must be 1 to 20 characters, got {control_id!r}")
    ids = dict(patient.identifiers)
    mrn = ids.get("mrn", "")
    status = "C" if amended else "F"
    segments = [
        "MSH|^~\\&|"
        + "|".join(
            (
                escape(sending_application),
                escape(sending_facility),
                escape(receiving_application),
                escape(receiving_facility),
                _ts(now),
                "",
                "ORU^R01^ORU_R01",
                escape(control_id),
                "P",
                "2.6",
                "",
                "",
                "AL",
                "NE",
                "",
                "UNICODE UTF-8",
            )
        ),
        f"PID|1||{escape(mrn)}^^^^MR~{escape(patient.key)}^^^ECMO_STEWARD^PI||{escape(ids.get('name', ''))}"
        f"|||{_SEX.get(patient.sex, 'U')}",
        "PV1|1|I",
        f"OBR|1|{escape(control_id)}|check-{check.id}^ECMO_STEWARD|circuit-check^Hourly circuit check^99ECMO"
        f"|||{_ts(check.observed_at)}||||||||||||||||||{status}",
    ]
    number = 0
    for parameter, value in check.values:
        number += 1
        coding = codes.coding_for(parameter)
        segments.append(
            f"OBX|{number}|NM|{parameter}^{escape(coding.label)}^99ECMO||{_number(value)}"
            f"|{coding.ucum}^{coding.ucum}^UCUM|||||{status}|||{_ts(check.observed_at)}"
        )
    for item, ok in check.items:
        number += 1
        answer = "Y^Yes^HL70136" if ok else "N^No^HL70136"
        label = escape(item.replace("_", " "))
        segments.append(
            f"OBX|{number}|CWE|{item}^{label}^99ECMO||{answer}||||||{status}|||{_ts(check.observed_at)}"
        )
    if check.notes:
        segments.append(f"NTE|1||{escape(check.notes)}")
    return "\r".join(segments) + "\r"


def read_ack(text: str) -> tuple[str, str]:
    """``(MSA-1, MSA-2)`` of an acknowledgement — the code (AA, AE, AR, CA, CE, CR) and the acknowledged
    control id — or ``("", "")`` when the text holds no MSA segment."""
    for line in text.replace("\n", "\r").split("\r"):
        if line.startswith("MSA|"):
            fields = line.split("|")
            return (fields[1] if len(fields) > 1 else "", fields[2] if len(fields) > 2 else "")
    return ("", "")
