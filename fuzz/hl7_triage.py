"""Harness: any bytes as an HL7 message → ``triage`` decides, and ``build_ack`` always answers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import atheris

from fuzz._seed import plant

with atheris.instrument_imports():
    from ecmo_core import hl7v2

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
SEED = (
    "MSH|^~\\&|ACME_ECLS^0A1B2C3D4E5F6071^EUI-64||ECMO_STEWARD||20250101120000+0000||ORU^R01^ORU_R01|SYN1|P|2.6"
    "|||AL|NE\rPID|||DEMO-MRN-100001^^^DEMO^MR\rPV1||I|ICU^^BED07\r"
    "OBR|1|||ECMO^ECMO^99ECMO|||20250101115955+0000\r"
    "OBX|1|NM|BLOOD_FLOW^Blood flow^99ECMO||4.2|L/min^L/min^UCUM|||||F|||20250101115955+0000\r"
)


def test_one(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    result = hl7v2.triage(text)
    assert result.outcome in set(hl7v2.Outcome)
    ack = hl7v2.build_ack(text, code=hl7v2.ack_code(result.outcome, text), error=result.error, now=NOW)
    assert ack.startswith("MSH")


def main() -> None:
    test_one(SEED.encode())
    plant(sys.argv, [SEED.encode()])
    atheris.instrument_all()  # every loaded module, including calculators imported lazily
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
