"""Helpers for the crash tests (tests/web/test_crash_*.py): real databases, real processes, real sockets.

Nothing here reaches into the project's internals: a database is created and migrated with ``ecmo migrate``,
processes are the ``ecmo`` commands a site runs, senders speak MLLP and HTTP, and what was stored is read back by
a separate Django process (``inspect``) that reports counts, alert transitions, the core engine's replay of the
same samples and the audit chain's verdict as JSON.

The database is SQLite (a file under the test's tmp dir) unless ``DATABASE_URL`` names PostgreSQL; then each test
gets a database of its own on that server (``crash_<suffix>_<n>``), cloned from a migrated template, and dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ecmo_web import mllp

ECMO = str(Path(sys.executable).parent / "ecmo")
SRC = str(Path(__file__).resolve().parents[2] / "src")
SENDERS = 4
CONSOLES = [f"0A1B2C3D4E5F60{n:02X}" for n in range(SENDERS)]
# An air episode every EPISODE_EVERY time points, EPISODE_LENGTH points long: the core engine fires
# ``air.detected`` once per episode and clears after it, so the expected alerts are known from the data alone.
EPISODE_EVERY = 100
EPISODE_START = 40
EPISODE_LENGTH = 20


def scale() -> str:
    """``short`` (every CI run) or ``full`` (``make soak``: ``ECMO_SOAK_SCALE=full``)."""
    value = os.environ.get("ECMO_SOAK_SCALE", "short").strip().lower()
    if value not in {"short", "full"}:
        raise ValueError(f"ECMO_SOAK_SCALE must be short or full, got {value!r}")
    return value


def sized(short: int, full: int) -> int:
    return full if scale() == "full" else short


def bubble(n: int) -> int:
    """The bubble detector at time point ``n`` of a stream: 1 inside an episode, else 0."""
    return int(EPISODE_START <= n % EPISODE_EVERY < EPISODE_START + EPISODE_LENGTH)


def expected_episodes(points: int) -> int:
    return sum(1 for n in range(points) if n % EPISODE_EVERY == EPISODE_START)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- databases ------------------------------------------------------------------------------------------------

SETUP = """
import datetime as dt, json, sys, django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from ecmo_web.accounts.models import ApiToken, Membership, Program
from ecmo_web.runs import actions
consoles = json.loads(sys.argv[1])
program = Program.objects.create(name="Crash")
user = get_user_model().objects.create_user("crash-perf")
Membership.objects.create(user=user, program=program, role="perfusionist")
started = timezone.now() - dt.timedelta(hours=6)
runs = [
    actions.start_run(actor=user, program=program, patient_code=f"TEST-{n:04d}", sex="male", birth_year=1970,
        indication="respiratory", mode="vv", started_at=started, console_serial=eui).pk
    for n, eui in enumerate(consoles)
]
print(json.dumps({"runs": runs, "user": user.pk}))
"""

TOKEN = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from ecmo_web.accounts.models import ApiToken
_, raw = ApiToken.issue(get_user_model().objects.get(username="crash-perf"), label="crash test")
print(json.dumps({"token": raw}))
"""

INSPECT = """
import collections, json, django
django.setup()
from ecmo_core.replay import replay
from ecmo_web.audit.chain import verify
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.evaluation import RunFacts, stored_sample
from ecmo_web.surveillance.models import AlertTransition, IngestBatch, InboundMessage, Sample
out = {"runs": {}}
for run in EcmoRun.objects.order_by("pk"):
    rows = list(Sample.objects.filter(run=run).values_list("observed_at", "parameter", "value", "source", "batch_id"))
    keys = collections.Counter((r[0].isoformat(), r[1], r[3]) for r in rows)
    per_batch = collections.Counter(r[4] for r in rows)
    batches = list(IngestBatch.objects.filter(run=run).values_list("pk", "kind", "ref"))
    refs = collections.Counter(f"{kind}:{ref}" for _, kind, ref in batches)
    fired = collections.Counter(
        AlertTransition.objects.filter(run=run, to_status="firing").values_list("rule_id", flat=True))
    expected = collections.Counter()
    if rows:
        facts = RunFacts.load(run)
        first = min(r[0] for r in rows)
        samples = [stored_sample(r[0], r[1], r[2], r[3]) for r in rows]
        for t in replay(samples, config=facts.config_at(first), context=facts.context_at(first)):
            if t.to_status == "firing":
                expected[t.rule_id] += 1
    out["runs"][str(run.pk)] = {
        "samples": len(rows),
        "distinct_samples": len(keys),
        "batches": len(batches),
        "distinct_refs": len(refs),
        "refs": sorted(ref for _, _, ref in batches),
        "samples_per_batch": sorted(set(per_batch.values())),
        "fired": dict(fired),
        "replay_fired": dict(expected),
    }
inbound = collections.Counter(InboundMessage.objects.values_list("outcome", flat=True))
result = verify()
out["inbound"] = dict(inbound)
out["audit"] = {"ok": result.ok, "checked": result.checked, "problem": result.problem}
print(json.dumps(out))
"""


@dataclass
class Database:
    """One migrated database with four runs (one per console) and the environment to reach it."""

    env: dict[str, str]
    runs: list[int]
    drop: Callable[[], None] = lambda: None

    def python(self, script: str, *args: str, timeout: float = 300) -> Any:
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def ecmo(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [ECMO, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
        return done.stdout

    def inspect(self) -> dict[str, Any]:
        return dict(self.python(INSPECT))

    def token(self) -> str:
        return str(self.python(TOKEN)["token"])


def _base_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ECMO_BROKER_URL"}}
    env.update(
        ECMO_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="ecmo_web.settings",
        PYTHONPATH=SRC + os.pathsep + env.get("PYTHONPATH", ""),
        ECMO_EVALUATION_INTERVAL_S="0.5",
        PYTHONUNBUFFERED="1",
    )
    return env


def _pg_admin(url: str) -> Any:
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


class Template:
    """A migrated database with the runs, made once per session and copied for each test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = os.environ.get("DATABASE_URL", "")
        self.postgres = self.url.startswith(("postgres://", "postgresql://"))
        suffix = os.environ.get("ECMO_TEST_DB_SUFFIX", "x").lower()
        self.prefix = f"crash_{''.join(c for c in suffix if c.isalnum())}_{os.getpid()}"
        self.count = 0
        self.runs: list[int] = []
        env = _base_env(root / "template")
        (root / "template").mkdir(parents=True, exist_ok=True)
        if self.postgres:
            self.name = f"{self.prefix}_template"
            with contextlib.closing(_pg_admin(self.url)) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                admin.execute(f'CREATE DATABASE "{self.name}"')
            env["DATABASE_URL"] = self._url(self.name)
        db = Database(env, [])
        db.ecmo("migrate", "-v", "0", "--no-input")
        self.runs = db.python(SETUP, json.dumps(CONSOLES))["runs"]

    def _url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.url)._replace(path=f"/{name}"))

    def clone(self, tmp_path: Path) -> Database:
        self.count += 1
        var_dir = tmp_path / "var"
        var_dir.mkdir(parents=True, exist_ok=True)
        env = _base_env(var_dir)
        if not self.postgres:
            shutil.copy(self.root / "template" / "ecmo.sqlite3", var_dir / "ecmo.sqlite3")
            return Database(env, list(self.runs))
        name = f"{self.prefix}_{self.count}"
        with contextlib.closing(_pg_admin(self.url)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        env["DATABASE_URL"] = self._url(name)

        def drop() -> None:
            with contextlib.closing(_pg_admin(self.url)) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return Database(env, list(self.runs), drop)

    def close(self) -> None:
        if self.postgres:
            with contextlib.closing(_pg_admin(self.url)) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- processes ------------------------------------------------------------------------------------------------


class Service:
    """An ``ecmo`` command in its own process group, started until ready and killed with SIGKILL."""

    def __init__(self, env: dict[str, str], args: list[str], ready: Callable[[Service], bool]) -> None:
        self.env, self.args, self.ready = env, args, ready
        self.proc: subprocess.Popen[str] | None = None
        self.kills = 0
        self.lines_at_start = 0
        self.log = Path(env["ECMO_VAR_DIR"]) / f"{args[0]}.log"

    def start(self, timeout: float = 90) -> None:
        self.lines_at_start = (
            len(self.log.read_text(errors="replace").splitlines()) if self.log.exists() else 0
        )
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [ECMO, *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # its own process group: SIGKILL reaches gunicorn's workers too
            )
        deadline = time.monotonic() + timeout
        while not self.ready(self):
            assert self.proc.poll() is None, f"{self.args[0]} exited: {self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"{self.args[0]} not ready: {self.log.read_text()[-2000:]}"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown, no flush, no finally."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def log_grows() -> Callable[[Service], bool]:
    """Ready once the process has written a line since it was started (a worker's first pass)."""

    def ready(service: Service) -> bool:
        return len(service.log.read_text(errors="replace").splitlines()) > service.lines_at_start

    return ready


def port_open(port: int) -> Callable[[Service], bool]:
    def ready(_: Service) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    return ready


def http_ready(port: int) -> Callable[[Service], bool]:
    def ready(_: Service) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/health/")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    return ready


# --- senders --------------------------------------------------------------------------------------------------


def _hl7_time(at: dt.datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S.%f")[:-3] + "+0000"


class Clock:
    """Device time: the wall clock, strictly increasing per sender (a console stamps what it measures now)."""

    def __init__(self) -> None:
        self.last = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        wall = dt.datetime.now(dt.UTC)
        at = max(
            wall.replace(microsecond=wall.microsecond // 1000 * 1000),
            self.last + dt.timedelta(milliseconds=1),
        )
        self.last = at
        return at


def oru(console: str, control_id: str, n: int, at: dt.datetime) -> str:
    stamp = _hl7_time(at)
    device = f"{console}^ACME_ECLS^{console}^EUI-64"
    return (
        "\r".join(
            [
                f"MSH|^~\\&|ACME_ECLS^{console}^EUI-64||ECMO_STEWARD||{stamp}||ORU^R01^ORU_R01|{control_id}|P|2.6",
                "PID|",
                f"OBR|1|{control_id}||182777000^monitoring of patient^SCT|||{stamp}",
                f"OBX|1|NM|blood_flow_l_min^ECMO blood flow^99ECMO|1.1.1.1|{4.0 + (n % 7) / 10:.1f}|L/min|||||R|||"
                f"{stamp}||||{device}",
                f"OBX|2|NM|sweep_gas_l_min^Sweep^99ECMO|1.1.2.1|3.0|L/min|||||R|||{stamp}||||{device}",
                f"OBX|3|NM|bubble_detected^Bubble detector^99ECMO|1.1.3.1|{bubble(n)}||||||R|||{stamp}||||{device}",
            ]
        )
        + "\r"
    )


@dataclass
class Tally:
    """What the senders saw: acknowledged ids, resends, and any answer that was not a plain acceptance."""

    total: int
    acked: list[str] = field(default_factory=list)
    resends: int = 0  # messages that needed more than one attempt
    server_errors: list[str] = field(default_factory=list)  # 5xx answers (resent, but counted)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self) -> int:
        with self.lock:
            return len(self.acked)


def hl7_sender(sender: int, points: int, port: Callable[[], int], tally: Tally, deadline: float) -> None:
    """A gateway: sends its console's stream in order, one message at a time, and resends what was not
    acknowledged (connection refused or dropped, no ACK in time) until it is."""
    console, clock = CONSOLES[sender], Clock()
    for n in range(points):
        control_id = f"S{sender}-{n:05d}"
        text = oru(console, control_id, n, clock.now())  # built once: a resend is the same message
        tries = 0
        while time.monotonic() < deadline:
            tries += 1
            try:
                ack = mllp.send_message("127.0.0.1", port(), text, timeout=15)
            except OSError:
                time.sleep(0.05)
                continue
            if "MSA|AA|" in ack:
                break
            with tally.lock:
                tally.refused.append(f"{control_id}: {ack!r}")
            return
        else:
            return
        with tally.lock:
            tally.acked.append(control_id)
            tally.resends += tries > 1


def api_sender(
    sender: int,
    batches: int,
    per_batch: int,
    run_id: int,
    port: int,
    token: str,
    tally: Tally,
    deadline: float,
) -> None:
    """An API client: posts batches of samples with a batch id, resending a batch until it gets a 200."""
    clock = Clock()
    for b in range(batches):
        samples = []
        for k in range(per_batch):
            n = b * per_batch + k
            at = clock.now().isoformat()
            samples += [
                {"observed_at": at, "parameter": "blood_flow_l_min", "value": 4.0 + (n % 7) / 10},
                {"observed_at": at, "parameter": "sweep_gas_l_min", "value": 3.0},
                {"observed_at": at, "parameter": "bubble_detected", "value": bubble(n)},
            ]
        ref = f"A{sender}-{b:05d}"
        body = json.dumps({"samples": samples, "batch_ref": ref})
        tries = 0
        while time.monotonic() < deadline:
            tries += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request(
                    "POST",
                    f"/api/v1/runs/{run_id}/samples",
                    body=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                status, text = response.status, response.read().decode(errors="replace")
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            finally:
                conn.close()
            if status == 200:
                break
            if status >= 500:
                with tally.lock:
                    tally.server_errors.append(f"{ref}: {status} {text[:200]}")
                time.sleep(0.05)
                continue
            with tally.lock:
                tally.refused.append(f"{ref}: {status} {text[:300]}")
            return
        else:
            return
        with tally.lock:
            tally.acked.append(ref)
            tally.resends += tries > 1


def kill_points(total: int, kills: int, rng: random.Random) -> list[int]:
    """``kills`` distinct progress marks (acknowledged messages) between 5 % and 90 % of the stream."""
    return sorted(rng.sample(range(max(1, total // 20), max(2, total * 9 // 10)), kills))


def chaos(
    service: Service,
    tally: Tally,
    marks: list[int],
    rng: random.Random,
    senders: list[threading.Thread],
    timeline: list[str],
) -> None:
    """Kill ``service`` with SIGKILL as the acknowledged count passes each mark, then start it again after a
    random pause (0–0.5 s)."""
    for mark in marks:
        while tally.done() < mark and any(t.is_alive() for t in senders):
            time.sleep(0.01)
        if not any(t.is_alive() for t in senders):
            return
        # A random extra moment so the kill lands anywhere in a message's life (triage, commit, ACK).
        time.sleep(rng.uniform(0, 0.05))
        service.kill()
        timeline.append(f"killed {service.args[0]} at {tally.done()} acknowledged")
        time.sleep(rng.uniform(0, 0.5))
        service.start()


@contextlib.contextmanager
def running(*services: Service) -> Iterator[None]:
    try:
        for s in services:
            s.start()
        yield
    finally:
        for s in services:
            s.stop()
