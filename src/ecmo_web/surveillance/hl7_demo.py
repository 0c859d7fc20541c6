"""Demo step: a few real HL7 messages through the listener's own path, so that the Demo program shows the device
message log, a duplicate, an identity conflict held for review and a run warned of an unverified identity.

Messages are built as a console gateway would send them and stored by ``hl7_ingest.commit`` exactly as
``ecmo mllp-listen`` stores them (ACK after commit, evaluation queued).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_web.demo.base import DEMO_MRN_AUTHORITY
from ecmo_web.surveillance.hl7_ingest import ListenerConfig, commit, receive


def _oru(console: str, control_id: str, at: dt.datetime, *, pid: str = "", bed: str = "") -> str:
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S+0000")
    device = f"{console}^DEMO_ECLS^{console}^EUI-64"
    return (
        "\r".join(
            [
                f"MSH|^~\\&|DEMO_GW^{console}^EUI-64||ECMO_STEWARD||{stamp}||ORU^R01^ORU_R01|{control_id}|P|2.6",
                f"PID|||{pid}" if pid else "PID|",
                f"PV1||I|{bed}" if bed else "PV1||I",
                f"OBR|1|{control_id}||182777000^monitoring of patient^SCT|||{stamp}",
                f"OBX|1|NM|blood_flow_l_min^ECMO blood flow^99ECMO|1.1.1.1|4.6|L/min|||||R|||{stamp}||||{device}",
                f"OBX|2|NM|pump_speed_rpm^Pump speed^99ECMO|1.1.2.1|3350|/min|||||R|||{stamp}||||{device}",
            ]
        )
        + "\r"
    )


def seed(ctx: Any) -> None:
    config = ListenerConfig(peer="192.0.2.10:49152")  # a documentation address (RFC 5737): synthetic
    at = ctx.now - dt.timedelta(minutes=2)
    messages = [
        # A console's routine message, then the gateway's resend of it (stored once, acknowledged twice).
        _oru("DEMO-CON-04", "DEMO-GW-0001", at),
        _oru("DEMO-CON-04", "DEMO-GW-0001", at),
        # DEMO-0001's console, but the PID names DEMO-0002: refused, held for review as an identity conflict.
        _oru("DEMO-CON-04", "DEMO-GW-0002", at, pid=f"DEMO-MRN-100002^^^{DEMO_MRN_AUTHORITY}^MR"),
        # DEMO-0002's console naming a number from another hospital: stored, the run page warns.
        _oru("DEMO-CON-06", "DEMO-GW-0003", at, pid="DEMO-EXT-5531^^^DEMO-CLINIC^MR"),
    ]
    for text in messages:
        commit([receive(text, config)], config)
    ctx.say("HL7: 4 device messages (a duplicate, an identity conflict, an unverified identity)")
