"""Exports stream: the research export of a program keeps memory flat as the number of runs grows.

Project: ``writers.write_research`` — runs loaded 100 at a time, rows spooled to per-table files as they come.
Baseline: the obvious implementation — load every run's record into a list, then write. Both write the same
files (checked). The time ratio is printed as usual; the note gives the peak Python memory (tracemalloc) of each
at N and 2N runs: the project's peak should stay about the same, the baseline's should double.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from bench.common import Result, best_of

RUNS = 1000


def _setup(total: int) -> list[object]:
    tmp = Path(tempfile.mkdtemp(prefix="ecmo-bench-export-"))
    os.environ.setdefault("ECMO_VAR_DIR", str(tmp))
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecmo_web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from ecmo_web.accounts.models import Program
    from ecmo_web.runs.models import Cannula, Circuit, Component, ConfigurationEntry, EcmoRun, Patient

    call_command("migrate", verbosity=0)
    programs = []
    for size in (total // 2, total):
        program = Program.objects.create(name=f"Bench exports {size} {tmp.name}")
        start = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
        patients = Patient.objects.bulk_create(
            Patient(program=program, code=f"BENCH-{i:05d}", sex="female", birth_year=1960 + i % 40)
            for i in range(size)
        )
        runs = EcmoRun.objects.bulk_create(
            EcmoRun(program=program, patient=p, indication="respiratory", started_at=start,
                    ended_at=start + dt.timedelta(days=7), outcome="weaned", weight_kg=80)
            for p in patients
        )  # fmt: skip
        ConfigurationEntry.objects.bulk_create(
            ConfigurationEntry(run=r, mode="vv", started_at=start) for r in runs
        )
        Cannula.objects.bulk_create(
            Cannula(run=r, purpose="drainage", site="right_femoral_vein", size_fr=25, inserted_at=start)
            for r in runs
        )
        circuits = Circuit.objects.bulk_create(Circuit(run=r, started_at=start) for r in runs)
        Component.objects.bulk_create(
            Component(circuit=c, kind=k, maker="Bench", model=k, installed_at=start, lot="BENCH-LOT")
            for c in circuits for k in ("console", "pump_head", "oxygenator")
        )  # fmt: skip
        programs.append(program)
    return programs


def _peak(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def run() -> Result:
    programs = _setup(RUNS * 2)
    from ecmo_core.exports import research
    from ecmo_web.registry import writers
    from ecmo_web.registry.loaders import iter_runs
    from ecmo_web.runs.models import EcmoRun

    out_dir = Path(tempfile.mkdtemp(prefix="ecmo-bench-export-out-"))
    key = b"b" * 32
    now = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)

    def project_for(program: object) -> Callable[[], object]:
        def project() -> object:
            runs = EcmoRun.objects.filter(program=program)
            return writers.write_research(runs, out_dir / "p.zip", lambda d, t: None, key=key, now=now)

        return project

    def baseline_for(program: object) -> Callable[[], object]:
        def baseline() -> object:
            records = list(
                iter_runs(EcmoRun.objects.filter(program=program), identified=False, chunk=100_000)
            )
            rows = [row for record in records for row in research.research_rows(record, key=key)]
            seen: set[str] = set()
            kept = []
            for table, row in rows:
                if table == "patients":
                    if row["patient_id"] in seen:
                        continue
                    seen.add(row["patient_id"])
                kept.append((table, row))
            extra = {"data_dictionary.csv": writers.data_dictionary_csv(), "README.txt": ""}
            return writers._zip_tables(
                out_dir / "b.zip", research.TABLES, research.COLUMNS, iter(kept), extra
            )

        return baseline

    small, large = programs
    assert project_for(large)() == baseline_for(large)(), "project and baseline must write the same rows"
    peaks = {
        (name, label): _peak(fn(program))
        for label, program in (("N", small), ("2N", large))
        for name, fn in (("project", project_for), ("baseline", baseline_for))
    }
    p, b = best_of(2, project_for(large), baseline_for(large))
    note = (
        f"peak memory N={RUNS}→2N: streaming {peaks[('project', 'N')]:.1f}→{peaks[('project', '2N')]:.1f} MB, "
        f"load-all {peaks[('baseline', 'N')]:.1f}→{peaks[('baseline', '2N')]:.1f} MB"
    )
    return Result(f"research export of {RUNS * 2} runs (streamed vs load-all)", p, b, note)
