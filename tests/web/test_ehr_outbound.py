"""Enter once, into the EHR: hourly checks go out as HL7 ORU^R01 over MLLP and as FHIR Observations.

- recording a check writes its outbox rows in the same transaction (a refused check writes none); nothing is
  queued when no EHR is configured; an amended check goes out again with result status C;
- with the interface engine down, sends are retried with back-off and nothing is lost; after the peer restarts
  every check is delivered exactly once (the peer de-duplicates on MSH-10, the outbox marks sent only on AA) —
  also when the peer stored a message but answered AE;
- AR marks the row rejected, with the acknowledgement kept;
- FHIR: a 503 is retried, the conditional create stores each check once; ``ecmo ehr-send --once`` sends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from ecmo_core import hl7v2
from ecmo_web import mllp
from ecmo_web.registry.ehr import send_pending
from ecmo_web.registry.models import OutboundMessage
from ecmo_web.surveillance import actions


class MllpPeer:
    """An interface engine on 127.0.0.1: stores each message once per control id and answers AA."""

    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.received = 0
        self.answer_error_once: set[str] = set()
        self.reject: set[str] = set()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: Any = None

    def handle(self, text: str) -> str:
        self.received += 1
        header = hl7v2.read_header(text)
        now = dt.datetime.now(dt.UTC)
        if header.control_id in self.reject:
            return hl7v2.build_ack(text, code="AR", text="unknown patient", now=now)
        self.stored.setdefault(header.control_id, text)  # de-duplicate on MSH-10
        if header.control_id in self.answer_error_once:
            self.answer_error_once.discard(header.control_id)
            return hl7v2.build_ack(text, code="AE", text="try again", now=now)
        return hl7v2.build_ack(text, code="AA", now=now)

    def start(self) -> None:
        async def start() -> Any:
            return await mllp.start_server(self.handle, host="127.0.0.1", port=self.port)

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@pytest.fixture
def peer(settings: Any) -> Iterator[MllpPeer]:
    engine = MllpPeer()
    engine.start()
    settings.ECMO_EHR_MLLP = f"127.0.0.1:{engine.port}"
    settings.ECMO_EHR_TIMEOUT_S = 3
    yield engine
    engine.stop()
    engine.close()


def _check(run: Any, actor: Any, minutes: int, **data: Any) -> Any:
    at = run.started_at + dt.timedelta(minutes=minutes)
    return actions.record_check(
        actor=actor,
        run=run,
        observed_at=at,
        data={"pump_speed_rpm": 3000, "blood_flow_l_min": 4.0, **data},
        now=at,
    )


def test_it_queues_nothing_without_an_ehr(run: Any, perfusionist: Any) -> None:
    _check(run, perfusionist, 10)
    assert not OutboundMessage.objects.exists()


def test_it_writes_the_outbox_row_with_the_check_or_not_at_all(
    peer: MllpPeer, run: Any, perfusionist: Any
) -> None:
    check = _check(run, perfusionist, 10, notes="cannula sites | dry")
    [row] = OutboundMessage.objects.all()
    assert (row.check_record, row.channel, row.status) == (check, "hl7", "queued")
    parsed = hl7v2.parse_oru(row.payload)
    assert parsed.header.control_id == row.control_id
    assert {(o.parameter, o.value) for o in parsed.observations} == {
        ("pump_speed_rpm", 3000.0),
        ("blood_flow_l_min", 4.0),
    }
    assert "TEST-MRN-1" in row.payload and "cannula sites \\F\\ dry" in row.payload
    with pytest.raises(ValidationError):
        _check(run, perfusionist, 20, fdo2=3)  # a refused check: no row either
    assert OutboundMessage.objects.count() == 1
    amended = actions.amend_check(
        actor=perfusionist,
        check=check,
        data={"pump_speed_rpm": 3100, "blood_flow_l_min": 4.1},
        reason="typed 3000 for 3100",
        now=check.observed_at + dt.timedelta(minutes=5),
    )
    second = OutboundMessage.objects.get(check_record=amended)
    assert second.control_id != row.control_id
    assert "|C|||" in second.payload.split("\r")[4]  # OBX-11 result status: corrected


def test_it_delivers_every_check_exactly_once_across_a_restart_of_the_peer(
    peer: MllpPeer, run: Any, perfusionist: Any
) -> None:
    peer.stop()  # the interface engine is down
    for minutes in (10, 70, 130):
        _check(run, perfusionist, minutes)
    t0 = timezone.now()
    down = send_pending(now=t0)
    assert (down.sent, down.retrying) == (0, 3)
    rows = list(OutboundMessage.objects.all())
    assert all(r.attempts == 1 and r.next_attempt_at == t0 + dt.timedelta(seconds=5) for r in rows)
    assert send_pending(now=t0 + dt.timedelta(seconds=1)).retrying == 0  # backing off: not due yet
    again = send_pending(now=t0 + dt.timedelta(seconds=5))
    assert again.retrying == 3
    assert OutboundMessage.objects.first().next_attempt_at == t0 + dt.timedelta(seconds=15)  # 5 s, then 10 s

    peer.start()  # back on the same port
    peer.answer_error_once.add(rows[1].control_id)  # stores it, but the ACK says AE
    up = send_pending(now=t0 + dt.timedelta(seconds=15))
    assert (up.sent, up.retrying) == (2, 1)
    final = send_pending(now=t0 + dt.timedelta(seconds=60))
    assert final.sent == 1
    assert sorted(peer.stored) == sorted(r.control_id for r in rows)  # each check once
    assert peer.received == 4  # the AE'd one arrived twice and was stored once
    assert set(OutboundMessage.objects.values_list("status", "ack_code")) == {("sent", "AA")}
    assert send_pending(now=t0 + dt.timedelta(minutes=10)).sent == 0  # nothing is sent twice


def test_it_parks_a_rejected_message(peer: MllpPeer, run: Any, perfusionist: Any) -> None:
    _check(run, perfusionist, 10)
    row = OutboundMessage.objects.get()
    peer.reject.add(row.control_id)
    report = send_pending()
    row.refresh_from_db()
    assert (report.rejected, row.status, row.ack_code) == (1, "rejected", "AR")
    assert "unknown patient" in row.ack_text


class FhirServer(BaseHTTPRequestHandler):
    stored: dict[str, dict[str, Any]] = {}
    fail_next = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if FhirServer.fail_next:
            FhirServer.fail_next -= 1
            self._reply(503, {"resourceType": "OperationOutcome"})
            return
        key = self.headers["If-None-Exist"]
        status = 200 if key in FhirServer.stored else 201
        FhirServer.stored.setdefault(key, body)
        self._reply(status, FhirServer.stored[key])

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server(settings: Any) -> Iterator[type[FhirServer]]:
    FhirServer.stored = {}
    FhirServer.fail_next = 0
    server = HTTPServer(("127.0.0.1", 0), FhirServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ECMO_EHR_FHIR_URL = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    settings.ECMO_EHR_TIMEOUT_S = 3
    yield FhirServer
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_it_posts_fhir_observations_once(
    fhir_server: type[FhirServer], run: Any, perfusionist: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from fhir.resources.R4B.observation import Observation

    _check(run, perfusionist, 10)
    row = OutboundMessage.objects.get()
    assert row.channel == "fhir"
    Observation.model_validate(json.loads(row.payload))
    fhir_server.fail_next = 1
    assert send_pending().retrying == 1
    call_command("ehr_send", "--once")  # not due yet: backing off
    assert "sent 0, retrying 0" in capsys.readouterr().out
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    call_command("ehr_send", "--once")
    assert "sent 1" in capsys.readouterr().out
    [stored] = fhir_server.stored.values()
    assert stored["identifier"] == [{"system": "urn:ecmo-steward:outbound", "value": row.control_id}]
    assert stored["subject"] == {"identifier": {"system": "urn:ecmo-steward:mrn", "value": "TEST-MRN-1"}}
    assert OutboundMessage.objects.get().ack_code == "201"
