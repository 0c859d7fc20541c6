"""``ecmo export {elso,ecls-cdm,research} --out FILE [--program NAME] [--format json|csv] [--run ID …]``.

Runs the export as a job (logged like one started from the API, as ``system:cli``), prints progress on stderr and
copies the result to FILE. Exit 2 on bad input (unknown program, several programs and none named, a bad format).
The command runs with the operator's trust, like ``ecmo backup``: whoever can run it can read the database.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from ecmo_web.accounts.models import Program
from ecmo_web.registry import actions, jobs
from ecmo_web.registry.models import ExportJob


class Command(BaseCommand):
    help = "Export registry (ELSO), ECLS CDM or de-identified research data to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["elso", "ecls-cdm", "research"])
        parser.add_argument("--out", required=True, metavar="FILE")
        parser.add_argument("--program", default=None, help="program name (needed when there are several)")
        parser.add_argument("--format", default="", dest="fmt", help="elso only: json (default) or csv")
        parser.add_argument(
            "--run", type=int, action="append", dest="run_ids", help="only this run (repeatable)"
        )

    def _fail(self, message: str) -> None:
        self.stderr.write(f"ecmo export: {message}")
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        programs = Program.objects.all()
        if options["program"]:
            programs = programs.filter(name=options["program"])
        found = list(programs[:2])
        if not found:
            self._fail(
                f"no program named {options['program']!r}" if options["program"] else "no program exists"
            )
            return
        if len(found) > 1:
            names = ", ".join(Program.objects.order_by("name").values_list("name", flat=True))
            self._fail(f"--program: choose one of {names}")
            return
        try:
            job = actions.request_export(
                actor=actions.CLI,
                program=found[0],
                kind=options["kind"],
                fmt=options["fmt"],
                run_ids=options["run_ids"],
            )
        except ValidationError as error:
            problems = "; ".join(
                f"--{k.replace('_', '-')}: {' '.join(v)}" for k, v in error.message_dict.items()
            )
            self._fail(problems)
            return
        job = self._run_with_progress(job)
        if job.status != ExportJob.Status.DONE:
            self._fail(f"the export failed: {job.error}")
            return
        out = Path(options["out"])
        shutil.copyfile(job.result_path, out)
        counts = ", ".join(f"{k} {v}" for k, v in job.row_counts.items())
        self.stderr.write(f"wrote {out} ({job.result_bytes} bytes; {counts}; sha256 {job.result_sha256})")

    def _run_with_progress(self, job: ExportJob) -> ExportJob:
        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\r{done}/{total} runs", ending="\n" if done == total else "")

        return jobs.run_job(job.pk, on_progress=progress)
