"""Crash safety: SIGKILL at random points while several senders stream, then count what was stored.

Real processes (the ``ecmo`` commands a site runs), real TCP, a real database file (SQLite) or server
(PostgreSQL when ``DATABASE_URL`` names one). Four senders, one console and run each, each sending a stream that
contains known air episodes (bubble detector 1 for 20 time points in every 100) and resending whatever was not
acknowledged. The short form runs in every CI run; ``make soak`` (``ECMO_SOAK_SCALE=full``) runs 10,000 time
points per scenario with more kills. docs/reliability.md has the figures.

- [x] MLLP listener killed (SIGKILL) at random points: every acknowledged message is stored exactly once (one
      batch per control id, its three samples), nothing twice, no message lost, no refusal
- [x] the evaluator/worker (``ecmo surveil --loop``, the listener running ``--no-evaluator``) killed at random
      points: every alert the data call for exists — the alert transitions equal the core engine's replay of the
      stored samples (``ecmo_core.replay``), one ``air.detected`` firing per episode
- [x] the web server (``ecmo serve``, gunicorn, master and workers) killed mid-batch while API clients post
      sample batches with a ``batch_ref`` and resend on any failure: each batch stored once, no sample twice
- [x] ``ecmo import-csv`` killed during the import: the file is stored whole or not at all, a re-import after the
      crash stores it once, and importing it again adds nothing
- [x] after every scenario the audit chain verifies
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web import crashkit as kit
from tests.web.crashkit import Database, Service, Tally

pytestmark = pytest.mark.soak


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kit.Template]:
    made = kit.Template(tmp_path_factory.mktemp("crash-template"))
    yield made
    made.close()


@pytest.fixture
def database(template: kit.Template, tmp_path: Path) -> Iterator[Database]:
    db = template.clone(tmp_path)
    yield db
    db.drop()


def rng_for(name: str) -> random.Random:
    seed = int(os.environ.get("ECMO_CRASH_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
    print(f"\n{name}: ECMO_CRASH_SEED={seed}")
    return random.Random(seed)


def report(name: str, **figures: Any) -> None:
    """One line of figures per scenario (docs/reliability.md quotes them from ``pytest -s``)."""
    print(
        f"{name} [{kit.scale()}, {'postgresql' if 'DATABASE_URL' in os.environ else 'sqlite'}]: "
        + ", ".join(f"{k} {v}" for k, v in figures.items())
    )


def stream_hl7(db: Database, *, points: int, port: int, chaos_on: Service, kills: int, name: str) -> Tally:
    rng = rng_for(name)
    tally = Tally(total=points * kit.SENDERS)
    deadline = time.monotonic() + kit.sized(240, 3600)
    senders = [
        threading.Thread(target=kit.hl7_sender, args=(s, points, lambda: port, tally, deadline), daemon=True)
        for s in range(kit.SENDERS)
    ]
    timeline: list[str] = []
    killer = threading.Thread(
        target=kit.chaos,
        args=(chaos_on, tally, kit.kill_points(tally.total, kills, rng), rng, senders, timeline),
        daemon=True,
    )
    for t in senders:
        t.start()
    killer.start()
    for t in senders:
        t.join(max(deadline - time.monotonic(), 1))
    killer.join(120)
    assert not killer.is_alive()
    print("\n".join(timeline))
    return tally


def check_stored_once(
    db: Database, found: dict[str, Any], *, points: int, ids: list[set[str]]
) -> dict[str, int]:
    """Each run holds each sender's batches once, with their three samples each, and nothing else."""
    stored = duplicates = 0
    for run_id, expected in zip(db.runs, ids, strict=True):
        run = found["runs"][str(run_id)]
        got = [ref.rsplit("|", 1)[-1] for ref in run["refs"]]
        assert len(got) == len(set(got)), f"run {run_id}: a batch stored twice"
        assert set(got) == expected, f"run {run_id}: missing {sorted(expected - set(got))[:5]}"
        assert run["samples"] == run["distinct_samples"] == 3 * points
        assert len(run["samples_per_batch"]) == 1, "every batch holds all its samples"
        stored += len(got)
        duplicates += run["samples"] - run["distinct_samples"]
    return {"stored": stored, "duplicates": duplicates}


def check_alerts(db: Database, found: dict[str, Any], *, points_per_run: list[int]) -> int:
    """The alert transitions equal the core engine's replay of the same samples; one air alert per episode."""
    fired = 0
    for run_id, points in zip(db.runs, points_per_run, strict=True):
        run = found["runs"][str(run_id)]
        assert run["fired"] == run["replay_fired"], f"run {run_id}"
        assert run["fired"].get("air.detected", 0) == kit.expected_episodes(points), f"run {run_id}"
        fired += sum(run["fired"].values())
    return fired


def check_audit(found: dict[str, Any]) -> None:
    assert found["audit"]["ok"], found["audit"]
    assert found["audit"]["checked"] > 0


def test_it_loses_nothing_when_the_mllp_listener_is_killed(database: Database) -> None:
    points, kills = kit.sized(150, 2500), kit.sized(3, 10)
    port = kit.free_port()
    listener = Service(database.env, ["mllp-listen", "--port", str(port)], kit.port_open(port))
    with kit.running(listener):
        tally = stream_hl7(
            database, points=points, port=port, chaos_on=listener, kills=kills, name="listener"
        )
    database.ecmo("surveil", "--once")  # whatever the killed listener's evaluator had not reached
    found = database.inspect()

    assert tally.refused == []
    assert len(tally.acked) == tally.total
    ids = [{f"S{s}-{n:05d}" for n in range(points)} for s in range(kit.SENDERS)]
    counts = check_stored_once(database, found, points=points, ids=ids)
    assert set(found["inbound"]) <= {"stored", "duplicate"}, found["inbound"]
    alerts = check_alerts(database, found, points_per_run=[points] * kit.SENDERS)
    check_audit(found)
    report(
        "listener killed",
        kills=listener.kills,
        sent=tally.total,
        acked=len(tally.acked),
        resends=tally.resends,
        stored=counts["stored"],
        duplicates=counts["duplicates"],
        lost=tally.total - counts["stored"],
        resends_already_held=found["inbound"].get("duplicate", 0),
        alert_transitions=alerts,
    )


def test_it_raises_every_alert_when_the_worker_is_killed(database: Database) -> None:
    points, kills = kit.sized(150, 2500), kit.sized(3, 10)
    port = kit.free_port()
    listener = Service(
        database.env, ["mllp-listen", "--port", str(port), "--no-evaluator"], kit.port_open(port)
    )
    worker = Service(database.env, ["surveil", "--loop", "--interval", "0.5"], kit.log_grows())
    with kit.running(listener, worker):
        tally = stream_hl7(database, points=points, port=port, chaos_on=worker, kills=kills, name="worker")
    database.ecmo("surveil", "--once")  # the worker started once more after the stream
    found = database.inspect()

    assert tally.refused == []
    assert len(tally.acked) == tally.total
    ids = [{f"S{s}-{n:05d}" for n in range(points)} for s in range(kit.SENDERS)]
    counts = check_stored_once(database, found, points=points, ids=ids)
    alerts = check_alerts(database, found, points_per_run=[points] * kit.SENDERS)
    check_audit(found)
    report(
        "worker killed",
        kills=worker.kills,
        sent=tally.total,
        acked=len(tally.acked),
        stored=counts["stored"],
        duplicates=counts["duplicates"],
        lost=tally.total - counts["stored"],
        alert_transitions=alerts,
    )


def test_it_stores_each_api_batch_once_when_the_web_server_is_killed(database: Database) -> None:
    per_batch = 10
    batches, kills = kit.sized(15, 250), kit.sized(3, 10)
    points = batches * per_batch
    token = database.token()
    port = kit.free_port()
    server = Service(
        database.env,
        ["serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        kit.http_ready(port),
    )
    rng = rng_for("web server")
    tally = Tally(total=batches * kit.SENDERS)
    deadline = time.monotonic() + kit.sized(240, 3600)
    timeline: list[str] = []
    with kit.running(server):
        senders = [
            threading.Thread(
                target=kit.api_sender,
                args=(s, batches, per_batch, database.runs[s], port, token, tally, deadline),
                daemon=True,
            )
            for s in range(kit.SENDERS)
        ]
        killer = threading.Thread(
            target=kit.chaos,
            args=(server, tally, kit.kill_points(tally.total, kills, rng), rng, senders, timeline),
            daemon=True,
        )
        for t in senders:
            t.start()
        killer.start()
        for t in senders:
            t.join(max(deadline - time.monotonic(), 1))
        killer.join(120)
    print("\n".join(timeline))
    # Batches posted within the evaluation interval of the last are queued; the server's evaluator takes them
    # within the interval, but the stream's last ones may be queued when the server stops.
    database.ecmo("surveil", "--once")
    found = database.inspect()

    assert tally.refused == []
    assert tally.server_errors == []
    assert len(tally.acked) == tally.total
    ids = [{f"A{s}-{b:05d}" for b in range(batches)} for s in range(kit.SENDERS)]
    counts = check_stored_once(database, found, points=points, ids=ids)
    alerts = check_alerts(database, found, points_per_run=[points] * kit.SENDERS)
    check_audit(found)
    report(
        "web server killed",
        kills=server.kills,
        batches_sent=tally.total,
        samples_sent=3 * points * kit.SENDERS,
        acked=len(tally.acked),
        resends=tally.resends,
        stored=counts["stored"],
        duplicates=counts["duplicates"],
        lost=tally.total - counts["stored"],
        alert_transitions=alerts,
    )


COUNT = """
import json, sys, django
django.setup()
from ecmo_web.surveillance.models import IngestBatch, Sample
run = int(sys.argv[1])
print(json.dumps([Sample.objects.filter(run_id=run).count(), IngestBatch.objects.filter(run_id=run).count()]))
"""


def console_export(rows: int, *, end: dt.datetime) -> str:
    """A wide CSV as a console exports it: one row a second up to ``end``, with the same air episodes."""
    lines = ["observed_at,blood_flow_l_min,sweep_gas_l_min,bubble_detected"]
    start = end - dt.timedelta(seconds=rows)
    for n in range(rows):
        at = (start + dt.timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{at},{4.0 + (n % 7) / 10:.1f},3.0,{kit.bubble(n)}")
    return "\n".join(lines) + "\n"


def test_it_imports_a_csv_whole_or_not_at_all_when_killed(database: Database, tmp_path: Path) -> None:
    rows, kills = kit.sized(1500, 10000), kit.sized(4, 8)
    run_id = database.runs[0]
    path = tmp_path / "console-export.csv"
    path.write_text(console_export(rows, end=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    # How long an import of this file takes here, measured on another run: kills then land before, during and
    # after the write.
    began = time.monotonic()
    database.ecmo("import-csv", str(database.runs[1]), str(path))
    duration = time.monotonic() - began
    rng = rng_for("csv import")
    outcomes: list[str] = []
    for k in range(kills):
        proc = subprocess.Popen(
            [kit.ECMO, "import-csv", str(run_id), str(path)],
            env=database.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        # Later and later kills (15 % to 110 % of the measured import): the first land before the write, the
        # last after it; the loop ends at the first kill that finds the file stored.
        time.sleep(duration * rng.uniform(0.15 + 0.95 * k / kills, 0.15 + 0.95 * (k + 1) / kills))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        samples, batches = database.python(COUNT, str(run_id))
        assert (samples, batches) in {(0, 0), (3 * rows, 1)}, (samples, batches)
        outcomes.append("finished" if proc.returncode == 0 else ("nothing" if samples == 0 else "whole"))
        if samples:
            break
    first = database.ecmo("import-csv", str(run_id), str(path))
    again = database.ecmo("import-csv", str(run_id), str(path))
    found = database.inspect()

    assert "created 0," in again
    assert first.startswith(("created 0,", f"created {3 * rows},"))
    run = found["runs"][str(run_id)]
    assert run["samples"] == run["distinct_samples"] == 3 * rows
    assert run["batches"] == 1
    assert run["fired"] == run["replay_fired"]
    assert run["fired"]["air.detected"] == kit.expected_episodes(rows)
    check_audit(found)
    report(
        "import-csv killed",
        kills=len(outcomes),
        import_s=round(duration, 1),
        rows=rows,
        samples=3 * rows,
        after_kill=" ".join(outcomes),
        stored=run["samples"],
        duplicates=run["samples"] - run["distinct_samples"],
        batches=run["batches"],
        alert_transitions=sum(run["fired"].values()),
    )


def test_the_web_server_evaluates_the_batches_it_queues(database: Database) -> None:
    """No listener, no worker, no broker: a batch too large to evaluate in its request is evaluated by the
    evaluator ``ecmo serve`` runs in its workers: each air episode in the batch raises its alert by itself."""
    token, port = database.token(), kit.free_port()
    server = Service(database.env, ["serve", "--port", str(port), "--workers", "1"], kit.http_ready(port))
    points = 450  # five air episodes, the last still going at the newest point
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=points)
    times = [(start + dt.timedelta(seconds=n)).isoformat() for n in range(points)]
    body = {
        "columns": {
            "observed_at": times,
            "values": {
                "blood_flow_l_min": [4.2] * points,
                "sweep_gas_l_min": [3.0] * points,
                "bubble_detected": [kit.bubble(n) for n in range(points)],
            },
        },
        "batch_ref": "large-1",
    }
    with kit.running(server):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            f"/api/v1/runs/{database.runs[0]}/samples",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        answer = json.loads(conn.getresponse().read())
        conn.close()
        assert answer["created"] == 3 * points and answer["evaluated"] is False, answer
        deadline = time.monotonic() + 30
        fired: dict[str, int] = {}
        while time.monotonic() < deadline:
            fired = database.inspect()["runs"][str(database.runs[0])]["fired"]
            if fired.get("air.detected") == kit.expected_episodes(points):
                break
            time.sleep(0.5)
    assert fired.get("air.detected") == kit.expected_episodes(points) == 5, fired
