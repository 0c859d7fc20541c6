"""``ecmo ehr-send [--once] [--interval S]``: deliver the EHR outbox (HL7 ORU^R01 over MLLP, FHIR Observations).

``--once`` sends what is due and exits (0; the counts on stdout). Without it the command loops every
``--interval`` seconds until interrupted. A worker loop (``ecmo surveil``) may call
``ecmo_web.registry.ehr.send_pending()`` instead.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ecmo_web.registry.ehr import send_pending


class Command(BaseCommand):
    help = "Send queued circuit checks to the EHR (MLLP and/or FHIR), with retries and back-off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes (default 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            report = send_pending()
            self.stdout.write(f"sent {report.sent}, retrying {report.retrying}, rejected {report.rejected}")
            for line in report.errors:
                self.stderr.write(f"  {line}")
            if options["once"]:
                return
            time.sleep(options["interval"])
