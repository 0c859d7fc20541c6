"""``make bench`` (``python -m bench [--quick] [--only NAME,…]``): every benchmark beside its baseline.

These machines are noisy, so each benchmark runs its baseline in the same run, interleaved, several times, and
reports the median and the spread of each and the ratio project ÷ baseline. Each benchmark runs in its own
process (a fresh database, its own peak memory). Results go to bench/results.json; the replay's time against
size is drawn to docs/performance-replay.svg. ``--only`` replaces just those benchmarks' entries. ``--quick`` uses small sizes and one or few repeats (≈ 1 min).
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.chart import replay_chart
from bench.common import Result

HERE = Path(__file__).resolve().parent
BENCHES = {
    "replay": "bench.bench_replay:run",
    "ingest": "bench.bench_api:ingest",
    "trends": "bench.bench_api:trends",
    "incremental": "bench.bench_live_incremental:run",
    "live": "bench.bench_live_evaluation:run",
    "evaluations": "bench.bench_surveillance:run",
    "mllp": "bench.bench_mllp:run",
    "export-memory": "bench.bench_export_memory:run",
    "kpis": "bench.bench_kpis:run",
    "pages": "bench.bench_pages:run",
}


def _one(name: str, quick: bool) -> list[dict[str, Any]]:
    module, function = BENCHES[name].split(":")
    runner = getattr(importlib.import_module(module), function)
    try:
        outcome = runner(quick)
    except TypeError:  # the older benchmarks take no size
        outcome = runner()
    results: list[Result] = outcome if isinstance(outcome, list) else [outcome]
    return [{"benchmark": name, **r.as_dict()} for r in results]


def _line(r: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value * 1000:,.0f} ms"

    def spread(runs: list[float]) -> str:
        return f"{min(runs) * 1000:,.0f}–{max(runs) * 1000:,.0f}" if runs else "—"

    ratio = r["ratio_project_to_baseline"]
    return (
        f"{r['name']}\n    project {ms(r['project_median_s'])} ({spread(r['project_runs_s'])} ms, "
        f"{len(r['project_runs_s'])} runs)  baseline {ms(r['baseline_median_s'])} "
        f"({spread(r['baseline_runs_s'])} ms)  ratio {'—' if ratio is None else f'{ratio:.2f}×'}\n"
        f"    {r['note']}\n    goal: {r['goal']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--only", help=f"comma-separated: {', '.join(BENCHES)}")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.quick)))
        return 0
    names = args.only.split(",") if args.only else list(BENCHES)
    results: list[dict[str, Any]] = []
    for name in names:
        command = [sys.executable, "-m", "bench", "--one", name, *(["--quick"] if args.quick else [])]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE.parent)
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        for r in json.loads(done.stdout.strip().splitlines()[-1]):
            results.append(r)
            print(_line(r), flush=True)
    previous = HERE / "results.json"
    if args.only and previous.exists():  # keep the other benchmarks' last figures
        kept = [
            r
            for r in json.loads(previous.read_text(encoding="utf-8"))["results"]
            if r["benchmark"] not in names
        ]
        results = kept + results
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "quick": args.quick,
        "results": results,
    }
    (HERE / "results.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    replay = [r for r in results if r["benchmark"] == "replay"]
    if len(replay) >= 2:
        (HERE.parent / "docs" / "performance-replay.svg").write_text(replay_chart(replay), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
