"""Timing helpers shared by the benchmarks: interleaved repeats, median and spread, a Django database."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Result:
    """One benchmark: every repeat of the project and of its baseline (seconds), and what else it measured.

    ``ratio`` is project ÷ baseline of the medians: how many times the baseline's time the project takes
    (1.0 = as fast; a goal "≤ 2×" means a ratio of at most 2). ``figures`` holds further numbers (peak RSS,
    samples per second, points returned) and ``goal`` the target in words.
    """

    name: str
    project_s: Sequence[float]
    baseline_s: Sequence[float]
    note: str = ""
    goal: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Benchmarks that keep only the best run pass one number; hold it as a one-run list.
        for name in ("project_s", "baseline_s"):
            value = getattr(self, name)
            if isinstance(value, int | float):
                object.__setattr__(self, name, [float(value)])

    @property
    def project(self) -> float:
        return statistics.median(self.project_s)

    @property
    def baseline(self) -> float:
        return statistics.median(self.baseline_s) if self.baseline_s else float("nan")

    @property
    def ratio(self) -> float:
        return self.project / self.baseline if self.baseline_s and self.baseline else float("nan")

    def spread(self, runs: Sequence[float]) -> str:
        return f"{min(runs) * 1000:.0f}–{max(runs) * 1000:.0f} ms" if runs else "—"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "goal": self.goal,
            "note": self.note,
            "project_median_s": round(self.project, 4),
            "project_runs_s": [round(r, 4) for r in self.project_s],
            "baseline_median_s": None if not self.baseline_s else round(self.baseline, 4),
            "baseline_runs_s": [round(r, 4) for r in self.baseline_s],
            "ratio_project_to_baseline": None if not self.baseline_s else round(self.ratio, 2),
            **self.figures,
        }


def interleave(
    repeats: int, project: Callable[[], object], baseline: Callable[[], object] | None
) -> tuple[list[float], list[float]]:
    """Run project and baseline alternately so both see the same machine noise; every run's seconds."""
    project_runs: list[float] = []
    baseline_runs: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        project()
        project_runs.append(time.perf_counter() - t0)
        if baseline is not None:
            t1 = time.perf_counter()
            baseline()
            baseline_runs.append(time.perf_counter() - t1)
    return project_runs, baseline_runs


def best_of(
    repeats: int, project: Callable[[], object], baseline: Callable[[], object]
) -> tuple[list[float], list[float]]:
    """Interleaved repeats (kept for the older benchmarks' wording)."""
    return interleave(repeats, project, baseline)


def run_measured(command: Sequence[str]) -> tuple[float, int]:
    """Run ``command`` (output discarded); its wall time in seconds and peak resident memory in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {stderr[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def django_database() -> Path:
    """Set up Django on a fresh SQLite database in a temporary directory (migrated); returns the directory."""
    tmp = Path(tempfile.mkdtemp(prefix="ecmo-bench-"))
    os.environ["ECMO_VAR_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecmo_web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp
