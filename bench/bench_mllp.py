"""The HL7 live path at the speed of the wire: real MLLP over TCP into the database, ACK after commit.

Project: ``ecmo mllp-listen``'s handler (``Ingestor``: group commit, evaluation queued, not run, in the message's
transaction) behind ``ecmo_web.mllp.serve`` on 127.0.0.1; 4 concurrent senders (one per console, each its own run)
each send ORU^R01 messages of 8 OBX on one connection and wait for each ACK before the next, as a gateway does.
The listener's evaluator thread runs meanwhile, so the alert latency (a message's commit → its run evaluated) is
measured at full ingest rate. Baseline: python-hl7's bare ``hl7.parse`` of the same messages, one thread — the
least any HL7 stack does per message, with no network, no storage, no acknowledgement.

Each database is run in its own process (Django connects to one database per process): SQLite (WAL) always,
PostgreSQL when ``ECMO_BENCH_POSTGRES_URL`` (or ``DATABASE_URL`` pointing at PostgreSQL) is set. The senders run in
a process of their own (they stand for other machines). Besides the rate, the listener process's CPU time while
streaming is reported: on a loaded machine a closed loop of 4 senders waits mostly on the scheduler, and the CPU
per message (beside the bare parse's) says what one core could sustain.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import Result

SENDERS = 4
MESSAGES_PER_SENDER = int(os.environ.get("ECMO_BENCH_MLLP_MESSAGES", "750"))
VALUES = {
    "blood_flow_l_min": 4.8, "pump_speed_rpm": 3400, "access_pressure_mmhg": -60,
    "pre_oxygenator_pressure_mmhg": 250, "post_oxygenator_pressure_mmhg": 234, "sweep_gas_l_min": 3.0,
    "fdo2": 1.0, "post_oxygenator_po2_mmhg": 480,
}  # fmt: skip
START = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)


def console(n: int) -> str:
    return f"BENCH{n:011d}"


def message(sender: int, n: int) -> str:
    """One PCD-01-style ORU^R01: 8 OBX, one second apart per console, a unique control id."""
    eui = console(sender)
    at = (START + dt.timedelta(hours=1, seconds=n)).strftime("%Y%m%d%H%M%S+0000")
    control_id = f"B{sender}-{n:06d}"
    segments = [
        f"MSH|^~\\&|BENCH_GW^{eui}^EUI-64||ECMO_STEWARD||{at}||ORU^R01^ORU_R01|{control_id}|P|2.6|||AL|NE",
        "PID|",
        f"PV1||I|ICU^^BED{sender:02d}",
        f"OBR|1|{control_id}^BENCH_GW^{eui}^EUI-64||182777000^monitoring of patient^SCT|||{at}",
    ]
    for i, (parameter, value) in enumerate(VALUES.items(), start=1):
        segments.append(
            f"OBX|{i}|NM|{parameter}^{parameter}^99ECMO|1.1.{i}.1|{value}||||||R|||{at}|||AMEAS^auto^MDC|"
            f"{eui}^BENCH^{eui}^EUI-64"
        )
    return "\r".join(segments) + "\r"


def _send_stream(port: int, texts: list[str], acks: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        buffer = b""
        for text in texts:
            sock.sendall(b"\x0b" + text.encode() + b"\x1c\r")
            while b"\x1c" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("listener closed the connection")
                buffer += chunk
            frame, _, buffer = buffer.partition(b"\x1c")
            buffer = buffer.removeprefix(b"\r")
            acks.append(frame.lstrip(b"\x0b").decode())


def _send_all(port: int) -> dict[str, float]:
    """The 4 senders, each on its own connection, each waiting for every ACK before its next message."""
    streams = [[message(s, n) for n in range(MESSAGES_PER_SENDER)] for s in range(SENDERS)]
    acks: list[list[str]] = [[] for _ in range(SENDERS)]
    senders = [
        threading.Thread(target=_send_stream, args=(port, streams[s], acks[s])) for s in range(SENDERS)
    ]
    t0 = time.perf_counter()
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    elapsed = time.perf_counter() - t0
    accepted = sum(1 for stream in acks for a in stream if "|CA|" in a or "|AA|" in a)
    return {"elapsed_s": elapsed, "accepted": accepted}


def _child(database_url: str) -> dict[str, float]:
    """Runs in a fresh process: set up the database, serve, stream, measure; returns the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="ecmo-bench-mllp-"))
    os.environ["ECMO_VAR_DIR"] = str(tmp)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecmo_web.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("ecmo").setLevel(logging.WARNING)
    import asyncio

    import hl7
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from ecmo_web import mllp
    from ecmo_web.accounts.models import Membership, Program
    from ecmo_web.runs import actions
    from ecmo_web.surveillance.evaluation_queue import Evaluator
    from ecmo_web.surveillance.hl7_ingest import Ingestor
    from ecmo_web.surveillance.models import Sample

    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    program = Program.objects.create(name="Bench")
    user = get_user_model().objects.create_user("bench")  # no password: never logs in
    Membership.objects.create(user=user, program=program, role="perfusionist")
    for n in range(SENDERS):
        actions.start_run(
            actor=user, program=program, patient_code=f"BENCH-{n}", sex="male", birth_year=1970,
            indication="respiratory", mode="vv", started_at=START, console_serial=console(n),
        )  # fmt: skip
    streams = [[message(s, n) for n in range(MESSAGES_PER_SENDER)] for s in range(SENDERS)]
    evaluator = Evaluator(every_s=1.0, poll_s=0.2)
    if not os.environ.get("ECMO_BENCH_MLLP_NO_EVALUATOR"):
        evaluator.start()
    ingestor = Ingestor(on_commit=evaluator.wake)
    ready = threading.Event()
    state: dict[str, object] = {}

    async def serve() -> None:
        state["loop"] = asyncio.get_running_loop()
        stop = asyncio.Event()
        state["stop"] = stop

        def on_ready(addresses: list[tuple[str, int]]) -> None:
            state["port"] = addresses[0][1]
            ready.set()

        await mllp.serve(ingestor, host="127.0.0.1", port=0, stop=stop, on_ready=on_ready)

    server = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    server.start()
    ready.wait(30)
    port = int(state["port"])  # type: ignore[call-overload]
    # Warm-up: one message per console (first connections, first queries), not timed.
    warm: list[str] = []
    for s in range(SENDERS):
        _send_stream(port, [message(s, MESSAGES_PER_SENDER + 1)], warm)
    # The senders are other machines (gateways): they run in their own process, so that their work does not
    # share the listener's interpreter lock.
    cpu0 = time.process_time()
    sent = subprocess.run(
        [sys.executable, "-m", "bench.bench_mllp", "--send", str(port)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    figures = json.loads(sent.stdout.strip().splitlines()[-1])
    elapsed, accepted = figures["elapsed_s"], figures["accepted"]
    cpu = time.process_time() - cpu0  # the listener process (writer, event loop, evaluator) while streaming
    time.sleep(1.5)  # let the evaluator finish the last interval
    loop = state["loop"]
    loop.call_soon_threadsafe(state["stop"].set)  # type: ignore[attr-defined]
    server.join(30)
    ingestor.close()
    if evaluator._thread.is_alive():
        evaluator.stop()
    total = SENDERS * MESSAGES_PER_SENDER
    stored = Sample.objects.filter(batch__isnull=False).count()
    assert accepted == total, f"{total - accepted} messages not accepted"
    assert stored == (total + SENDERS) * len(VALUES), f"{stored} samples stored"
    waits = sorted(w for p in evaluator.passes for w in p.waited_s)
    p95 = waits[int(0.95 * (len(waits) - 1))] if waits else float("nan")

    texts = [t for stream in streams for t in stream]
    best_parse = float("inf")
    for _ in range(3):
        t1 = time.perf_counter()
        for text in texts:
            hl7.parse(text)
        best_parse = min(best_parse, time.perf_counter() - t1)
    return {
        "vendor": connection.vendor,
        "messages": total,
        "elapsed_s": elapsed,
        "baseline_s": best_parse,
        "groups": ingestor.groups,
        "group_messages": ingestor.messages,
        "latency_p95_s": p95,
        "latency_median_s": statistics.median(waits) if waits else float("nan"),
        "evaluations": len(waits),
        "listener_cpu_s": cpu,
    }


def _run_child(database_url: str) -> dict[str, float] | None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_mllp", "--child", database_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _result(figures: dict[str, float]) -> Result:
    n = figures["messages"]
    rate = n / figures["elapsed_s"]
    base_rate = n / figures["baseline_s"]
    note = (
        f"{rate:,.0f} msg/s vs bare parse {base_rate:,.0f} msg/s; "
        f"{figures['group_messages'] / max(figures['groups'], 1):.1f} msg/transaction; "
        f"alert latency p95 {figures['latency_p95_s']:.2f} s; listener CPU "
        f"{figures['listener_cpu_s'] / n * 1e3:.2f} ms/msg (bare parse {figures['baseline_s'] / n * 1e3:.2f} ms/msg)"
    )
    return Result(
        f"MLLP ingest, {SENDERS} senders × {MESSAGES_PER_SENDER} ORU^R01 of 8 OBX, ACK after commit, "
        f"{figures['vendor']}",
        figures["elapsed_s"],
        figures["baseline_s"],
        note,
        goal="≥ 2,000 msg/s",
        figures={
            "messages_per_s": round(rate),
            "baseline_messages_per_s": round(base_rate),
            "listener_cpu_ms_per_message": round(figures["listener_cpu_s"] / n * 1e3, 3),
            "alert_latency_p95_s": round(figures["latency_p95_s"], 2),
        },
    )


def run() -> list[Result]:
    results = []
    sqlite = _run_child("")
    if sqlite is not None:
        results.append(_result(sqlite))
    url = os.environ.get("ECMO_BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        postgres = _run_child(url)
        if postgres is not None:
            results.append(_result(postgres))
    return results


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--send":
        print(json.dumps(_send_all(int(sys.argv[2]))))
    elif len(sys.argv) >= 2 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2] if len(sys.argv) > 2 else "")))
    else:
        for r in run():
            print(r.name, f"{r.project:.2f}s", f"{r.baseline:.3f}s", r.note)
