"""Soak: simulated consoles streaming HL7 over MLLP and simulated users browsing, for minutes, on PostgreSQL.

Real processes on loopback, in a database of their own (created here, dropped at the end):
``ecmo mllp-listen`` (with its evaluator), ``ecmo serve`` (gunicorn), and two ``ecmo surveil --loop`` workers.

- Consoles: one TCP connection each (reconnecting and resending what was not acknowledged), one ORU^R01 per
  ``--interval`` seconds with the time of sending; each console has one known episode of air in the circuit
  (``bubble_detected`` = 1 for five messages) at its own moment, so that the air alert must be raised.
- Users: signed-in HTTP clients that wait 1–3 s between requests and fetch the run list, run pages, the live
  fragments (circuit now, the menu's alert count, with ``If-None-Match`` as the polling script does), the
  alerts page, the rounds board, and now and then post an hourly check through the API.
- Sampler: the resident memory of every server process (gunicorn's workers included) every 5 s.

Measured: messages sent, acknowledged, stored (one ingest batch per control id), lost (acknowledged but not
stored), duplicates (stored more than once), HTTP 5xx and transport errors, p50/p95 latency per request kind and
of the ACKs, RSS per process in the first and the last minute, and for every air episode the time from the first
bubble message to the stored ``firing`` transition.

    python scripts/soak.py                          # 20 consoles, 30 users, 10 minutes (``make soak``)
    python scripts/soak.py --consoles 5 --users 5 --seconds 45
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python scripts/soak.py --json var/soak.json

Everything is bounded: every thread stops at its deadline, every process is stopped at the end (SIGTERM, then
SIGKILL), and the whole run is cut at ``--seconds`` + 5 minutes. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ECMO = [sys.executable, "-c", "from ecmo_web.cli import main; raise SystemExit(main())"]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test"
START_BLOCK, END_BLOCK = b"\x0b", b"\x1c\x0d"
EPISODE_MESSAGES = 5  # consecutive messages with bubble_detected = 1


@dataclass(frozen=True)
class Config:
    consoles: int = 20
    users: int = 30
    seconds: float = 600.0
    interval_s: float = 1.0  # one message per console per interval
    database_url: str = DEFAULT_URL
    alert_bound_s: float = 30.0  # first bubble message → stored firing transition
    web_workers: int = 3
    sample_every_s: float = 5.0
    keep_db: bool = False  # leave the soak's database in place (to look into a missed goal)


SETUP = r"""
import datetime as dt, json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.accounts.tokens import issue_token
from ecmo_web.runs import actions

consoles, users = int(sys.argv[1]), int(sys.argv[2])
now = timezone.now().replace(microsecond=0)
program = Program.objects.create(name="Soak")
roles = [Role.PERFUSIONIST, Role.BEDSIDE_NURSE, Role.INTENSIVIST, Role.ECMO_SPECIALIST]
people = []
for i in range(users):
    user = get_user_model().objects.create_user(username=f"soak{i:02d}", password="soak-password-1")
    Membership.objects.create(user=user, program=program, role=roles[i % len(roles)])
    people.append(user)
runs = []
for i in range(consoles):
    serial = f"50AC{i:012X}"
    run = actions.start_run(
        actor=people[0], program=program, patient_code=f"TEST-S{i:03d}", sex="female", birth_year=1975,
        indication="respiratory", mode="vv", started_at=now - dt.timedelta(hours=1), weight_kg=70,
        height_cm=170, console_serial=serial,
    )
    runs.append({"id": run.pk, "serial": serial})
sessions, tokens = [], []
for user in people:
    client = Client()
    client.force_login(user)
    sessions.append(client.cookies["sessionid"].value)
    tokens.append(issue_token(user=user, label="soak")[1])
print(json.dumps({"program": program.pk, "runs": runs, "sessions": sessions, "tokens": tokens,
                  "check_roles": [i for i, u in enumerate(people) if roles[i % len(roles)] in
                                  (Role.PERFUSIONIST, Role.ECMO_SPECIALIST)]}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _hl7_time(at: dt.datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S") + f".{at.microsecond // 1000:03d}+0000"


def oru(serial: str, control_id: str, at: dt.datetime, bubble: bool, n: int) -> str:
    """One ORU^R01 from console ``serial`` with the circuit's values at ``at`` (UTC)."""
    ts = _hl7_time(at)
    device = f"{serial}^ACME_ECLS^{serial}^EUI-64"
    wobble = (n % 20) / 100
    values = [
        ("blood_flow_l_min", "ECMO blood flow", f"{4.2 + wobble:.2f}", "L/min"),
        ("pump_speed_rpm", "Pump speed", f"{3300 + n % 20}", "/min"),
        ("sweep_gas_l_min", "Sweep", "3.0", "L/min"),
        ("pre_oxygenator_pressure_mmhg", "P pre", f"{240 + n % 7}", "mm[Hg]"),
        ("post_oxygenator_pressure_mmhg", "P post", f"{225 + n % 7}", "mm[Hg]"),
        ("bubble_detected", "Bubble", "1" if bubble else "0", "1"),
    ]
    segments = [
        f"MSH|^~\\&|ACME_ECLS^{serial}^EUI-64||ECMO_STEWARD||{ts}||ORU^R01^ORU_R01|{control_id}|P|2.6",
        "PID|",
        "PV1||I|ICU^^SOAK",
        f"OBR|1|{control_id}||182777000^monitoring of patient^SCT|||{ts}",
    ]
    for i, (code, text, value, unit) in enumerate(values, start=1):
        segments.append(f"OBX|{i}|NM|{code}^{text}^99ECMO|1.1.{i}.1|{value}|{unit}|||||R|||{ts}||||{device}")
    return "\r".join(segments) + "\r"


OBX_PER_MESSAGE = 6


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0  # distinct messages sent at least once
    resent: int = 0
    acked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # AE/AR
    ack_latency_s: list[float] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    episodes: dict[str, float] = field(default_factory=dict)  # console serial → wall time of first bubble
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    http_errors: list[str] = field(default_factory=list)
    rss: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))


class Console:
    """One device gateway: a persistent MLLP connection; what was not acknowledged is sent again."""

    def __init__(self, index: int, serial: str, port: int, cfg: Config, stats: Stats, t0: float) -> None:
        self.index, self.serial, self.port, self.cfg, self.stats, self.t0 = (
            index,
            serial,
            port,
            cfg,
            stats,
            t0,
        )
        self.sock: socket.socket | None = None
        self.buffer = b""
        # Each console's air episode at its own moment, spread over the middle of the soak.
        span = max(cfg.seconds - 2 * EPISODE_MESSAGES * cfg.interval_s - 10, 1.0)
        self.episode_at = 5 + span * (index + 0.5) / max(cfg.consoles, 1)

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.buffer = b""
        return self.sock

    def _drop(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        self.sock = None

    def _exchange(self, text: str) -> str:
        sock = self._connect()
        sock.sendall(START_BLOCK + text.encode() + END_BLOCK)
        while END_BLOCK not in self.buffer:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("listener closed the connection before the ACK")
            self.buffer += data
        frame, _, self.buffer = self.buffer.partition(END_BLOCK)
        return frame.lstrip(START_BLOCK).decode()

    def run(self, deadline: float) -> None:
        n = 0
        episode_left = 0
        next_at = self.t0 + (self.index % 10) * self.cfg.interval_s / 10  # spread the consoles over a second
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if now < next_at:
                time.sleep(min(next_at - now, deadline - now))
                continue
            next_at += self.cfg.interval_s
            control_id = f"S{self.index:02d}-{n:06d}"
            bubble = False
            if (
                episode_left == 0
                and self.serial not in self.stats.episodes
                and now - self.t0 >= self.episode_at
            ):
                episode_left = EPISODE_MESSAGES
                with self.stats.lock:
                    self.stats.episodes[self.serial] = time.time()
            if episode_left:
                bubble, episode_left = True, episode_left - 1
            text = oru(self.serial, control_id, dt.datetime.now(dt.UTC), bubble, n)
            attempts = 0
            with self.stats.lock:
                self.stats.sent += 1
            while time.monotonic() < deadline + 30:
                attempts += 1
                t = time.perf_counter()
                try:
                    ack = self._exchange(text)
                except OSError as exc:
                    self._drop()
                    with self.stats.lock:
                        self.stats.console_errors.append(f"{control_id}: {exc}")
                        self.stats.resent += 1
                    time.sleep(0.5)
                    continue
                elapsed = time.perf_counter() - t
                with self.stats.lock:
                    self.stats.ack_latency_s.append(elapsed)
                    if f"|{control_id}" in ack and "MSA|AA|" in ack:
                        self.stats.acked.append(control_id)
                    else:
                        self.stats.refused.append(f"{control_id}: {ack[-200:]!r}")
                break
            n += 1
        self._drop()


class User:
    """A signed-in clinician browsing: one request every 1–3 s, weighted like a day at the bedside."""

    KINDS = (
        ("run list", 3),
        ("run page", 3),
        ("circuit now (poll)", 6),
        ("alert count (poll)", 6),
        ("alerts page", 2),
        ("rounds board", 2),
        ("check (API post)", 1),
    )

    def __init__(self, index: int, base: str, data: dict[str, Any], stats: Stats, seed: int) -> None:
        self.index, self.base, self.data, self.stats = index, base, data, stats
        self.random = random.Random(seed)
        self.session = data["sessions"][index]
        self.token = data["tokens"][index]
        self.may_check = index in data["check_roles"]
        self.etags: dict[str, str] = {}

    def _request(self, kind: str, url: str, body: dict[str, Any] | None = None) -> None:
        headers = {"Cookie": f"sessionid={self.session}"}
        if body is not None:
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        elif url in self.etags:
            headers["If-None-Match"] = self.etags[url]
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + url,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method="POST" if body is not None else "GET",
        )
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                response.read()
                status = response.status
                if response.headers.get("ETag") and kind.endswith("(poll)"):
                    self.etags[url] = response.headers["ETag"]
                if "/login" in response.url:
                    status = 401
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.read()
        except OSError as exc:
            with self.stats.lock:
                self.stats.http_errors.append(f"{kind} {url}: {exc}")
            return
        elapsed = time.perf_counter() - t
        with self.stats.lock:
            self.stats.latency[kind].append(elapsed)
            self.stats.statuses[kind][status] += 1

    def run(self, deadline: float) -> None:
        kinds = [k for k, _ in self.KINDS if self.may_check or not k.startswith("check")]
        weights = [w for k, w in self.KINDS if self.may_check or not k.startswith("check")]
        program = self.data["program"]
        while time.monotonic() < deadline:
            kind = self.random.choices(kinds, weights)[0]
            run = self.random.choice(self.data["runs"])["id"]
            if kind == "run list":
                self._request(kind, f"/programs/{program}/runs/")
            elif kind == "run page":
                self._request(kind, f"/runs/{run}/")
            elif kind == "circuit now (poll)":
                self._request(kind, f"/runs/{run}/live/circuit/")
            elif kind == "alert count (poll)":
                self._request(kind, "/live/alerts/")
            elif kind == "alerts page":
                self._request(kind, f"/programs/{program}/alerts/")
            elif kind == "rounds board":
                self._request(kind, f"/programs/{program}/rounds/")
            else:
                at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.index)
                body = {"observed_at": at.isoformat(), "pump_speed_rpm": 3300, "blood_flow_l_min": 4.2}
                self._request(kind, f"/api/v1/runs/{run}/checks", body)
            time.sleep(min(self.random.uniform(1.0, 3.0), max(deadline - time.monotonic(), 0)))


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _sampler(
    processes: dict[str, subprocess.Popen[Any]], stats: Stats, cfg: Config, stop: threading.Event
) -> None:
    t0 = time.monotonic()
    while not stop.is_set():
        now = time.monotonic() - t0
        for name, proc in processes.items():
            pids = [proc.pid]
            if name == "web":
                pids += _children(proc.pid)  # gunicorn's workers (the master is the first)
            for k, pid in enumerate(pids):
                rss = _rss_kib(pid)
                if rss is not None:
                    label = name if k == 0 else f"{name} worker {k}"
                    with stats.lock:
                        stats.rss[label].append((now, rss))
        stop.wait(cfg.sample_every_s)


def _maintenance(url: str) -> tuple[dict[str, Any], str]:
    import dj_database_url

    parsed = dj_database_url.parse(url)
    conninfo = {
        "host": parsed["HOST"] or "127.0.0.1",
        "port": parsed["PORT"] or 5432,
        "user": parsed["USER"],
        "password": parsed["PASSWORD"] or None,
    }
    return conninfo, str(parsed["NAME"])


def _connect(conninfo: dict[str, Any], dbname: str) -> Any:
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, connect_timeout=10, **conninfo)


def _wait_for(predicate: Any, what: str, timeout_s: float, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early (status {proc.returncode})")
        if predicate():
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not start within {timeout_s:.0f} s")


def _http_up(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health/", timeout=5):  # noqa: S310
            return True
    except OSError:
        return False


def _tcp_up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop(processes: dict[str, subprocess.Popen[Any]]) -> None:
    for proc in processes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in processes.values():
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _stored(conninfo: dict[str, Any], dbname: str) -> dict[str, Any]:
    with contextlib.closing(_connect(conninfo, dbname)) as db:
        refs = [r[0] for r in db.execute("SELECT ref FROM surveillance_ingestbatch WHERE kind = 'hl7'")]
        samples = db.execute("SELECT COUNT(*) FROM surveillance_sample WHERE source <> 'check'").fetchone()[0]
        distinct_samples = db.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT run_id, parameter, observed_at FROM surveillance_sample "
            "WHERE source <> 'check') s"
        ).fetchone()[0]
        firing = db.execute(
            "SELECT r.console_serial, MIN(t.created_at) FROM surveillance_alerttransition t "
            "JOIN runs_ecmorun r ON r.id = t.run_id WHERE t.rule_id = 'air.detected' AND t.to_status = 'firing' "
            "GROUP BY r.console_serial"
        ).fetchall()
        checks = db.execute("SELECT COUNT(*) FROM surveillance_circuitcheck").fetchone()[0]
    return {
        "refs": refs,
        "samples": samples,
        "distinct_samples": distinct_samples,
        "firing": {serial: at.timestamp() for serial, at in firing},
        "checks": checks,
    }


def _rss_summary(series: dict[str, list[tuple[float, int]]], seconds: float) -> dict[str, dict[str, float]]:
    window = min(60.0, seconds / 4)
    out = {}
    for name, points in sorted(series.items()):
        first = [kib for t, kib in points if t <= window]
        last = [kib for t, kib in points if t >= points[-1][0] - window]
        if first and last:
            out[name] = {
                "first_mib": round(statistics.mean(first) / 1024, 1),
                "last_mib": round(statistics.mean(last) / 1024, 1),
                "max_mib": round(max(kib for _, kib in points) / 1024, 1),
            }
    return out


def run(cfg: Config, log_dir: Path | None = None) -> dict[str, Any]:
    """Run one soak and return its figures (see ``problems`` for the goals)."""
    conninfo, base_db = _maintenance(cfg.database_url)
    dbname = f"ecmo_soak_{os.getpid()}_{int(time.time())}"
    with contextlib.closing(_connect(conninfo, base_db)) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    tmp = tempfile.TemporaryDirectory(prefix="ecmo-soak-")
    var_dir = Path(tmp.name)
    logs = log_dir or var_dir
    logs.mkdir(parents=True, exist_ok=True)
    user = conninfo["user"] + (f":{conninfo['password']}" if conninfo["password"] else "")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "ECMO_TEST_DB_SUFFIX", "ECMO_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"postgres://{user}@{conninfo['host']}:{conninfo['port']}/{dbname}",
        ECMO_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="ecmo_web.settings",
        ECMO_LOG_LEVEL="WARNING",
    )
    processes: dict[str, subprocess.Popen[Any]] = {}
    files: list[Any] = []
    stats = Stats()
    try:
        subprocess.run([*ECMO, "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=600)  # noqa: S603
        built = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-c", SETUP, str(cfg.consoles), str(cfg.users)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        data = json.loads(built.stdout.strip().splitlines()[-1])
        mllp_port, web_port = _free_port(), _free_port()

        def start(name: str, args: list[str]) -> subprocess.Popen[Any]:
            out = (logs / f"{name}.log").open("w")
            files.append(out)
            proc = subprocess.Popen([*ECMO, *args], env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
            processes[name] = proc
            return proc

        listener = start("mllp", ["mllp-listen", "--port", str(mllp_port)])
        web = start("web", ["serve", "--port", str(web_port), "--workers", str(cfg.web_workers)])
        start("surveil 1", ["surveil", "--loop", "--interval", "5"])
        start("surveil 2", ["surveil", "--loop", "--interval", "5"])
        base = f"http://127.0.0.1:{web_port}"
        _wait_for(lambda: _tcp_up(mllp_port), "ecmo mllp-listen", 120, listener)
        _wait_for(lambda: _http_up(base), "ecmo serve", 120, web)

        stop = threading.Event()
        sampler = threading.Thread(target=_sampler, args=(processes, stats, cfg, stop), daemon=True)
        sampler.start()
        t0 = time.monotonic()
        deadline = t0 + cfg.seconds
        threads = [
            threading.Thread(
                target=Console(i, r["serial"], mllp_port, cfg, stats, t0).run, args=(deadline,), daemon=True
            )
            for i, r in enumerate(data["runs"])
        ] + [
            threading.Thread(target=User(i, base, data, stats, seed=i).run, args=(deadline,), daemon=True)
            for i in range(cfg.users)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(deadline + 120 - time.monotonic(), 1))
        hung = sum(t.is_alive() for t in threads)
        # Let the evaluator and the workers see the last messages before the processes stop.
        time.sleep(min(cfg.alert_bound_s, 15))
        stop.set()
        sampler.join(30)
        _stop(processes)
        stored = _stored(conninfo, dbname)
    finally:
        _stop(processes)
        for f in files:
            f.close()
        if cfg.keep_db:
            print(f"soak database kept: {dbname}", file=sys.stderr)
        else:
            with contextlib.closing(_connect(conninfo, base_db)) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        tmp.cleanup()
    refs = [r.rsplit("|", 1)[1] for r in stored["refs"]]
    stored_ids = set(refs)
    acked = set(stats.acked)
    delays = {
        serial: round(stored["firing"][serial] - at, 1) if serial in stored["firing"] else None
        for serial, at in sorted(stats.episodes.items())
    }
    http_total = sum(sum(s.values()) for s in stats.statuses.values())
    return {
        "config": {
            k: getattr(cfg, k) for k in ("consoles", "users", "seconds", "interval_s", "alert_bound_s")
        },
        "messages": {
            "sent": stats.sent,
            "resent": stats.resent,
            "acknowledged": len(acked),
            "refused": len(stats.refused),
            "stored": len(stored_ids),
            "lost": len(acked - stored_ids),
            "duplicates": len(refs) - len(stored_ids),
            "samples": stored["samples"],
            "samples_expected": len(stored_ids) * OBX_PER_MESSAGE,
            "duplicate_samples": stored["samples"] - stored["distinct_samples"],
            "ack_p50_ms": round(_pct(stats.ack_latency_s, 0.5) * 1000, 1),
            "ack_p95_ms": round(_pct(stats.ack_latency_s, 0.95) * 1000, 1),
            "ack_max_ms": round(max(stats.ack_latency_s, default=0) * 1000, 1),
            "console_errors": stats.console_errors[:10],
            "refusals": stats.refused[:5],
        },
        "http": {
            "requests": http_total,
            "5xx": sum(n for s in stats.statuses.values() for code, n in s.items() if code >= 500),
            "transport_errors": len(stats.http_errors),
            "errors": stats.http_errors[:10],
            "by_kind": {
                kind: {
                    "count": len(values),
                    "p50_ms": round(_pct(values, 0.5) * 1000, 1),
                    "p95_ms": round(_pct(values, 0.95) * 1000, 1),
                    "statuses": {str(k): v for k, v in sorted(stats.statuses[kind].items())},
                }
                for kind, values in sorted(stats.latency.items())
            },
        },
        "checks_stored": stored["checks"],
        "alerts": {"episodes": len(stats.episodes), "delay_s": delays},
        "memory": _rss_summary(stats.rss, cfg.seconds),
        "hung_threads": hung,
    }


def problems(report: dict[str, Any], cfg: Config) -> list[str]:
    """The goals missed (empty when the soak passed)."""
    found = []
    m, h = report["messages"], report["http"]
    if m["lost"]:
        found.append(f"{m['lost']} acknowledged message(s) not stored")
    if m["duplicates"] or m["duplicate_samples"]:
        found.append(f"{m['duplicates']} message(s) and {m['duplicate_samples']} sample(s) stored twice")
    if m["samples"] != m["samples_expected"]:
        found.append(f"{m['samples']} device samples stored, {m['samples_expected']} expected")
    if m["refused"]:
        found.append(f"{m['refused']} message(s) refused: {m['refusals']}")
    if m["acknowledged"] != m["sent"]:
        found.append(f"{m['sent'] - m['acknowledged']} message(s) never acknowledged")
    expected = int(cfg.consoles * cfg.seconds / cfg.interval_s * 0.9)
    if m["sent"] < expected:
        found.append(f"only {m['sent']} messages sent, at least {expected} expected at the configured rate")
    if h["5xx"] or h["transport_errors"]:
        found.append(f"{h['5xx']} HTTP 5xx and {h['transport_errors']} transport error(s): {h['errors'][:3]}")
    for kind, figures in h["by_kind"].items():
        bad = {s: n for s, n in figures["statuses"].items() if s not in ("200", "201", "304")}
        if bad:
            found.append(f"{kind}: unexpected statuses {bad}")
    if report["alerts"]["episodes"] != cfg.consoles:
        found.append(f"{report['alerts']['episodes']} air episodes sent, {cfg.consoles} planned")
    for serial, delay in report["alerts"]["delay_s"].items():
        if delay is None or delay > cfg.alert_bound_s or delay < -1:
            found.append(
                f"console {serial}: air alert raised after {delay} s (bound {cfg.alert_bound_s:g} s)"
            )
    if report["hung_threads"]:
        found.append(f"{report['hung_threads']} simulated console/user thread(s) did not stop")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a console's messages")
    parser.add_argument("--alert-bound", type=float, default=30.0, help="seconds allowed to raise an alert")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path("var") / "soak-logs",
        help="keep the server processes' logs here, to read when a goal is missed (default: var/soak-logs)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the soak's database at the end")
    args = parser.parse_args(argv)
    if not re.match(r"postgres(ql)?://", args.database_url):
        parser.error("--database-url must be a PostgreSQL URL (the soak runs on PostgreSQL)")
    cfg = Config(
        consoles=args.consoles,
        users=args.users,
        seconds=args.seconds,
        interval_s=args.interval,
        database_url=args.database_url,
        alert_bound_s=args.alert_bound,
        keep_db=args.keep_db,
    )
    report = run(cfg, log_dir=args.logs)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    found = problems(report, cfg)
    for problem in found:
        print(f"SOAK FAILED: {problem}", file=sys.stderr)
    if found:
        print(f"the server processes' logs are in {args.logs}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
