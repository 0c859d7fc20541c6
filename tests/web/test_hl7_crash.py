"""The HL7 listener loses no acknowledged message when killed, and several listeners can share one database.

Real processes over real TCP: two ``ecmo mllp-listen`` processes on one SQLite database (WAL); a gateway sends the
same stream to both, as a gateway failing over between two listeners would; one listener is killed with SIGKILL
mid-stream and started again, and the gateway resends whatever was not acknowledged.

- [x] every acknowledged message is stored exactly once (one batch per control id, every sample once)
- [x] the stream completes: messages unacknowledged at the kill are resent and stored
- [x] a message sent to both listeners is stored once (idempotency lives in the database, not in a process)
- [x] the evaluation queue holds the run (durable across the crash)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ecmo_web import mllp

EUI = "0A1B2C3D4E5F6071"
MESSAGES = 80
KILL_AFTER = 25

SETUP = f"""
import datetime as dt, django
django.setup()
from django.contrib.auth import get_user_model
from ecmo_web.accounts.models import Membership, Program
from ecmo_web.runs import actions
program = Program.objects.create(name="North")
user = get_user_model().objects.create_user("perf")
Membership.objects.create(user=user, program=program, role="perfusionist")
actions.start_run(actor=user, program=program, patient_code="TEST-0001", sex="male", birth_year=1970,
    indication="respiratory", mode="vv", started_at=dt.datetime(2024, 12, 31, 10, tzinfo=dt.UTC),
    console_serial="{EUI}")
"""


def stream_message(n: int) -> str:
    at = (dt.datetime(2025, 1, 1, 11, tzinfo=dt.UTC) + dt.timedelta(seconds=n)).strftime("%Y%m%d%H%M%S+0000")
    device = f"{EUI}^ACME_ECLS^{EUI}^EUI-64"
    return (
        "\r".join(
            [
                f"MSH|^~\\&|ACME_ECLS^{EUI}^EUI-64||ECMO_STEWARD||{at}||ORU^R01^ORU_R01|K{n:05d}|P|2.6",
                "PID|",
                "PV1||I|ICU^^BED07",
                f"OBR|1|K{n:05d}||182777000^monitoring of patient^SCT|||{at}",
                f"OBX|1|NM|blood_flow_l_min^ECMO blood flow^99ECMO|1.1.1.1|4.2|L/min|||||R|||{at}||||{device}",
                f"OBX|2|NM|sweep_gas_l_min^Sweep^99ECMO|1.1.2.1|3.0|L/min|||||R|||{at}||||{device}",
            ]
        )
        + "\r"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Listener:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        ecmo = str(Path(sys.executable).parent / "ecmo")
        self.proc = subprocess.Popen(
            [ecmo, "mllp-listen", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "MLLP listener on …" once it is bound
        assert "MLLP listener on" in line, line

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown, no flush, nothing
        self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self._close()


def gateway(port: int, acked: list[str], progress: threading.Event) -> None:
    """Send the stream in order; on a dropped connection or a timeout, reconnect and resend the unacknowledged one."""
    n = 0
    deadline = time.monotonic() + 120
    while n < MESSAGES and time.monotonic() < deadline:
        try:
            ack = mllp.send_message("127.0.0.1", port, stream_message(n), timeout=10)
        except OSError:  # ConnectionError, refused while restarting, TimeoutError
            time.sleep(0.1)
            continue
        if "MSA|AA|" in ack:
            acked.append(f"K{n:05d}")
            n += 1
            if n >= KILL_AFTER:
                progress.set()


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_acknowledged_message_when_a_listener_is_killed(tmp_path: Path) -> None:
    env: dict[str, Any] = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ECMO_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="ecmo_web.settings")
    ecmo = str(Path(sys.executable).parent / "ecmo")
    subprocess.run([ecmo, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True)
    first, second = Listener(env, free_port()), Listener(env, free_port())
    first.start()
    second.start()
    acked: list[list[str]] = [[], []]
    progress = threading.Event()
    senders = [
        threading.Thread(target=gateway, args=(first.port, acked[0], progress)),
        threading.Thread(target=gateway, args=(second.port, acked[1], threading.Event())),
    ]
    try:
        for t in senders:
            t.start()
        assert progress.wait(60), "the stream did not start"
        first.kill()
        time.sleep(0.3)
        first.start()
        for t in senders:
            t.join(150)
    finally:
        first.stop()
        second.stop()
    assert acked[0] == acked[1] == [f"K{n:05d}" for n in range(MESSAGES)]
    with contextlib.closing(sqlite3.connect(tmp_path / "ecmo.sqlite3")) as db:
        refs = [r[0].rsplit("|", 1)[1] for r in db.execute("SELECT ref FROM surveillance_ingestbatch")]
        samples = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT parameter || observed_at) FROM surveillance_sample"
        ).fetchone()
        requests = db.execute("SELECT COUNT(*) FROM surveillance_evaluationrequest").fetchone()
    assert sorted(refs) == [f"K{n:05d}" for n in range(MESSAGES)]  # each acknowledged message once
    assert samples == (2 * MESSAGES, 2 * MESSAGES)
    assert requests == (1,)
