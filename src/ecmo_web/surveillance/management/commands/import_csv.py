"""``ecmo import-csv RUN_ID FILE.csv [--source console] [--preview]``: import a console export into a run.

Exit 0 on success (prints created and duplicate counts), 2 with every bad row and column on stderr when the file
is refused (nothing is stored), 2 when the run does not exist.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ecmo_web.kernel import SystemActor
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions


class Command(BaseCommand):
    help = "Import a wide CSV of console telemetry (observed_at plus core-api §4 columns) into a run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int)
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--source", default=None, help="source name for device columns (default: device)")
        parser.add_argument(
            "--preview", action="store_true", help="check and summarise the file, store nothing"
        )

    def _fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        run = EcmoRun.objects.select_related("program").filter(pk=options["run_id"]).first()
        if run is None:
            self._fail(f"ecmo import-csv: no run with id {options['run_id']}")
            return
        try:
            text = Path(options["file"]).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            self._fail(f"ecmo import-csv: cannot read {options['file']}: {error}")
            return
        try:
            preview = actions.import_csv(
                run,
                text,
                actor=SystemActor("system:import-csv"),
                preview=options["preview"],
                source=options["source"],
            )
        except actions.CsvImportError as error:
            lines = [
                f"ecmo import-csv: {options['file']}: {len(error.errors)} problem(s); nothing was imported"
            ]
            lines += [f"  {e}" for e in error.errors]
            self._fail("\n".join(lines))
            return
        if options["preview"]:
            self.stdout.write(
                f"{preview.rows} rows, {preview.samples} values: {preview.new} new, "
                f"{preview.duplicates} already stored (preview: nothing stored)"
            )
            return
        assert preview.result is not None
        fired = sorted({t.rule_id for t in preview.result.transitions if t.to_status == "firing"})
        self.stdout.write(
            f"created {preview.result.created}, duplicates {preview.result.duplicates}"
            + (f"; fired: {', '.join(fired)}" if fired else "")
        )
