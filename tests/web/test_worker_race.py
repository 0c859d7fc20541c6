"""An alert is never processed twice by two workers (issue 15 §3), tried with two real processes on PostgreSQL.

Many alerts are due for escalation and many transitions wait to be handed to the notifiers; two worker processes
(separate interpreters, separate connections) start at the same instant and each runs the escalation and the
transition stages of a surveillance pass over the same rows.

- [x] every alert is escalated exactly once (one ``alert.escalated`` audit event each; the escalations the two
  workers report add up to the number of alerts)
- [x] every transition reaches the notifiers exactly once (the notifier in each process records what it saw)
- [x] the audit chain still verifies after the two workers appended to it at once
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from ecmo_core.surveillance import Sample
from ecmo_web.audit.chain import verify
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs import actions as run_actions
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import Alert, AlertTransition
from tests.web.conftest import T0

ALERTS = 30
WORKERS = 2

WORKER = r"""
import datetime as dt, os, sys, time
import django
django.setup()
from ecmo_web import contributions
from ecmo_web.contributions import Contributions
from ecmo_web.surveillance import worker

seen_path, now, go = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), sys.argv[3]
seen = open(seen_path, "a")

def record(transition):
    seen.write(f"{transition.pk}\n")
    seen.flush()

deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.005)
with contributions.added(Contributions(notifiers=(record,))):
    escalated = worker.escalate_due_alerts(now)
    handed = worker.process_transitions(now=now)
print(len(escalated), handed)
"""

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="two worker processes on one database: the PostgreSQL leg runs this (SQLite has no row locks)",
)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_two_workers_escalate_and_notify_each_alert_once(
    program: Any, personas: dict[str, Any], tmp_path: Path
) -> None:
    at = T0 + dt.timedelta(minutes=1)
    for i in range(ALERTS):
        run = run_actions.start_run(
            actor=personas["perfusionist"],
            program=program,
            patient_code=f"TEST-{i:04d}",
            sex="female",
            birth_year=1980,
            indication="respiratory",
            mode="vv",
            started_at=T0,
            weight_kg=70,
            height_cm=170,
        )
        actions.ingest_samples(
            actor_or_system=actions.DEMO, run=run, samples=[Sample(at, "bubble_detected", 1.0)], now=at
        )
    alerts = set(Alert.objects.filter(rule_id="air.detected").values_list("pk", flat=True))
    transitions = set(AlertTransition.objects.filter(processed=False).values_list("pk", flat=True))
    assert len(alerts) == ALERTS and len(transitions) >= ALERTS
    now = at + dt.timedelta(hours=1)  # every critical alert is long overdue for escalation
    env = {k: v for k, v in os.environ.items() if k not in {"ECMO_TEST_DB_SUFFIX", "ECMO_BROKER_URL"}}
    env.update(
        DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="ecmo_web.settings", ECMO_LOG_LEVEL="ERROR"
    )
    go = tmp_path / "go"
    seen = [tmp_path / f"seen-{w}" for w in range(WORKERS)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(seen[w]), now.isoformat(), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    time.sleep(3)  # both interpreters have loaded Django and wait for the signal
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * WORKERS, outputs
    counts = [tuple(int(x) for x in out.split()[-2:]) for out, _ in outputs]
    assert sum(c[0] for c in counts) == ALERTS, counts
    escalations = Counter(
        int(i)
        for i in AuditEvent.objects.filter(action="alert.escalated").values_list("object_id", flat=True)
    )
    assert set(escalations) == alerts and set(escalations.values()) == {1}
    notified = Counter(int(line) for path in seen if path.exists() for line in path.read_text().split())
    assert set(notified) == transitions and set(notified.values()) == {1}, notified.most_common(3)
    assert sum(c[1] for c in counts) == len(transitions)
    assert not AlertTransition.objects.filter(processed=False).exists()
    assert verify().ok
