"""Page latency under load: run list, run page, rounds board, trends — against a trivial view, same server.

Dataset: one program with ``RUNS`` active runs, each with ``DAYS`` days of minute telemetry for the four circuit
parameters the trends page draws first (flow, pump speed, pre- and post-oxygenator pressure), bulk-inserted
into a fresh SQLite file database. Server: ``ecmo serve`` (gunicorn, the production server) on 127.0.0.1 with
an ephemeral port. Load: ``CLIENTS`` threads, each signed in, requesting the pages in turn; every request's
latency is recorded per page. Baseline: ``/health/``, a trivial Django view, requested the same way by the
same clients in the same run (so it goes through the same middleware, sessions and machine noise).

Reported per page: p50 and p95 in ms, and the ratio p95(page) / p95(trivial view); the target is ≤ 3×.

    python -m bench.bench_pages            # 50 runs × 30 days (build ≈ 1–2 min)
    python -m bench.bench_pages --quick    # 5 runs × 2 days, for a hand run
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.common import Result

FULL = {"runs": 50, "days": 30, "clients": 20, "rounds": 6}
QUICK = {"runs": 5, "days": 2, "clients": 20, "rounds": 3}
PARAMETERS = {
    "blood_flow_l_min": 4.5,
    "pump_speed_rpm": 3300.0,
    "pre_oxygenator_pressure_mmhg": 240.0,
    "post_oxygenator_pressure_mmhg": 225.0,
}
ECMO = [sys.executable, "-c", "from ecmo_web.cli import main; raise SystemExit(main())"]

BUILD = r"""
import datetime as dt, json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.runs import actions
from ecmo_web.surveillance.models import Sample

runs_n, days, parameters = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
now = timezone.now().replace(second=0, microsecond=0)
start = now - dt.timedelta(days=days)
program = Program.objects.create(name="Bench", time_zone="Europe/London")
user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
Membership.objects.create(user=user, program=program, role=Role.PERFUSIONIST)
run_ids = []
for i in range(runs_n):
    run = actions.start_run(
        actor=user, program=program, patient_code=f"DEMO-B{i:03d}", sex="female", birth_year=1975,
        indication="respiratory", mode="vv", started_at=start, weight_kg=70, height_cm=170,
    )
    run_ids.append(run.pk)
table = Sample._meta.db_table
minutes = days * 24 * 60
connection.ensure_connection()
raw = connection.connection  # the sqlite3 connection, in autocommit: explicit transactions below
# Drop the table's indexes for the load and build them again after: far faster than growing them row by row.
indexes = raw.execute(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
).fetchall()
for name, _ in indexes:
    raw.execute(f'DROP INDEX "{name}"')
# The rows are generated inside SQLite (minutes × parameters per run): no Python loop per row.
raw.execute("CREATE TEMP TABLE bench_minutes (i INTEGER, at TEXT)")
raw.execute("CREATE TEMP TABLE bench_parameters (name TEXT, value REAL)")
raw.execute("BEGIN")
raw.executemany(
    "INSERT INTO bench_minutes VALUES (?, ?)",
    ((m, (start + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S")) for m in range(minutes)),
)
raw.executemany("INSERT INTO bench_parameters VALUES (?, ?)", parameters.items())
raw.commit()
for run_id in run_ids:
    raw.execute("BEGIN")
    raw.execute(
        f"INSERT INTO {table} (run_id, parameter, observed_at, value, source, received_at) "
        "SELECT ?, p.name, m.at, p.value * (1 + 0.02 * ((m.i % 180) - 90) / 90.0), 'device', m.at "
        "FROM bench_minutes m CROSS JOIN bench_parameters p",
        (run_id,),
    )
    raw.commit()
for _, create in indexes:
    raw.execute(create)
client = Client()
client.force_login(user)
print(json.dumps({"program": program.pk, "runs": run_ids, "session": client.cookies["sessionid"].value,
                  "samples": Sample.objects.count()}))
"""


@dataclass
class Timings:
    by_page: dict[str, list[float]]

    def p(self, page: str, q: float) -> float:
        values = sorted(self.by_page[page])
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    def p50(self, page: str) -> float:
        return statistics.median(self.by_page[page])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "ECMO_TEST_DB_SUFFIX", "ECMO_BROKER_URL"}
    }
    env.update(
        ECMO_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="ecmo_web.settings", ECMO_LOG_LEVEL="WARNING"
    )
    return env


def _wait_until_up(base: str, server: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("ecmo serve exited before it answered")
        try:
            with urllib.request.urlopen(f"{base}/health/", timeout=5):  # noqa: S310 - base is http://127.0.0.1
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("ecmo serve did not answer within 2 minutes")


def _load(base: str, session: str, pages: dict[str, str], clients: int, rounds: int) -> Timings:
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", f"sessionid={session}")]
    by_page: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    errors: list[str] = []
    start = threading.Barrier(clients)

    def client(index: int) -> None:
        names = list(pages)
        start.wait()
        for r in range(rounds):
            # each client walks the pages in its own order so that all pages are under load at once
            for k in range(len(names)):
                name = names[(index + r + k) % len(names)]
                t0 = time.perf_counter()
                try:
                    with opener.open(base + pages[name], timeout=120) as response:
                        response.read()
                        if response.status != 200 or response.url.rstrip("/").endswith("/login"):
                            errors.append(f"{name}: {response.status} {response.url}")
                except OSError as exc:
                    errors.append(f"{name}: {exc}")
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    by_page[name].append(elapsed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed request(s), e.g. {errors[:3]}")
    return Timings(dict(by_page))


def measure(size: dict[str, int], workers: int | None = None) -> tuple[Timings, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="ecmo-bench-pages-") as tmp:
        var_dir = Path(tmp)
        env = _env(var_dir)
        subprocess.run([*ECMO, "migrate", "--no-input", "-v", "0"], env=env, check=True)
        t0 = time.perf_counter()
        built = subprocess.run(
            [sys.executable, "-c", BUILD, str(size["runs"]), str(size["days"]), json.dumps(PARAMETERS)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        data = json.loads(built.stdout.strip().splitlines()[-1])
        data["build_s"] = round(time.perf_counter() - t0, 1)
        run_id = data["runs"][len(data["runs"]) // 2]
        program = data["program"]
        pages = {
            "trivial view": "/health/",
            "run list": f"/programs/{program}/runs/",
            "run page": f"/runs/{run_id}/",
            "rounds board": f"/programs/{program}/rounds/",
            "trends page": f"/runs/{run_id}/trends/",
            "trends data (24 h)": f"/runs/{run_id}/trends/data.json?range=24h",
        }
        port = _free_port()
        args = [*ECMO, "serve", "--port", str(port)]
        if workers:
            args += ["--workers", str(workers)]
        with (var_dir / "serve.log").open("w") as log:
            server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_until_up(base, server)
                _load(base, data["session"], pages, clients=4, rounds=1)  # warm every worker's caches
                timings = _load(base, data["session"], pages, clients=size["clients"], rounds=size["rounds"])
            finally:
                server.terminate()
                server.wait(timeout=60)
        data["pages"] = pages
        return timings, data


def report(timings: Timings, data: dict[str, object], size: dict[str, int]) -> list[Result]:
    baseline = timings.p("trivial view", 0.95)
    results = []
    for page in data["pages"]:  # type: ignore[attr-defined]
        if page == "trivial view":
            continue
        p95 = timings.p(page, 0.95)
        results.append(
            Result(
                f"page p95: {page}",
                project_s=p95,
                baseline_s=baseline,
                note=(
                    f"p50 {timings.p50(page) * 1000:.0f} ms vs {timings.p50('trivial view') * 1000:.0f} ms; "
                    f"p95 is {p95 / baseline:.1f}× the trivial view's (target ≤ 3×); "
                    f"{size['runs']} runs × {size['days']} d, {size['clients']} clients"
                ),
            )
        )
    return results


def run(quick: bool = False) -> list[Result]:
    size = QUICK if quick or os.environ.get("ECMO_BENCH_QUICK") else FULL
    timings, data = measure(size)
    return report(timings, data, size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs × 2 days instead of 50 × 30")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: ecmo serve's)")
    options = parser.parse_args()
    size = QUICK if options.quick else FULL
    timings, data = measure(size, options.workers)
    print(f"{data['samples']:,} samples in {len(data['runs'])} runs, built in {data['build_s']} s")  # type: ignore[arg-type]
    print(f"{'page':<22} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}  p95 / trivial p95")
    base = timings.p("trivial view", 0.95)
    for page in data["pages"]:  # type: ignore[attr-defined]
        p95 = timings.p(page, 0.95)
        print(
            f"{page:<22} {len(timings.by_page[page]):>8} {timings.p50(page) * 1000:>8.0f} "
            f"{p95 * 1000:>8.0f}  {p95 / base:>5.1f}×"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
