"""``ecmo surveil --once | --loop [--interval 60]``: the surveillance worker.

Each pass evaluates every run on ECMO at the current time (so time-driven rules — a check overdue, data going
stale — change state without new telemetry), escalates firing alerts left unacknowledged longer than the program
allows, and hands unprocessed alert transitions to the notifiers (then marks them processed).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from ecmo_web.surveillance import actions


class Command(BaseCommand):
    help = "Evaluate active runs, escalate unacknowledged alerts and process alert transitions."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--once", action="store_true", help="one pass, then exit")
        mode.add_argument("--loop", action="store_true", help="a pass every --interval seconds until stopped")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="seconds between passes (default 60)"
        )

    def one_pass(self) -> str:
        now = timezone.now()
        transitions = actions.evaluate_active_runs(now=now)
        escalated = actions.escalate_due_alerts(now)
        processed = actions.process_transitions(now=now)
        return (
            f"{now:%Y-%m-%d %H:%M:%S} UTC: {transitions} transition(s), {len(escalated)} escalated, "
            f"{processed} processed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        if options["once"]:
            self.stdout.write(self.one_pass())
            return
        try:
            while True:
                close_old_connections()
                self.stdout.write(self.one_pass())
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("stopped")
