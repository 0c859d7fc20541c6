"""Run every benchmark and print one line each: project time, baseline time, ratio.

These machines are noisy, so absolute times mean little; each benchmark runs its baseline in the same process,
interleaved, best of several repeats, and the ratio is the number to watch.
"""

from __future__ import annotations

import sys

from bench import (
    bench_export_memory,
    bench_kpis,
    bench_live_evaluation,
    bench_mllp,
    bench_pages,
    bench_surveillance,
)


def main() -> int:
    # The MLLP and page benchmarks run each database in a child process (Django connects to one database per
    # process).
    results = [
        bench_surveillance.run(),
        bench_live_evaluation.run(),
        *bench_mllp.run(),
        bench_export_memory.run(),
        bench_kpis.run(),
        *bench_pages.run(),
    ]
    width = max(len(r.name) for r in results)
    print(f"{'benchmark':<{width}}  {'project':>12}  {'baseline':>12}  ratio (baseline / project)")
    for r in results:
        print(
            f"{r.name:<{width}}  {r.project_s * 1000:>10.1f}ms  {r.baseline_s * 1000:>10.1f}ms  {r.ratio:>6.1f}×"
            f"  {r.note}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
