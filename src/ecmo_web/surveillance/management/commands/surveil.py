"""``ecmo surveil --once | --loop [--interval 60] | --retry-parked``: the surveillance worker.

Each pass evaluates every run on ECMO at the current time (so time-driven rules — a check overdue, data going
stale — change state without new telemetry), escalates firing alerts left unacknowledged longer than the program
allows, hands unprocessed alert transitions to the notifiers and the program's notification channels, retries
deliveries that failed, and removes CSV uploads that expired. How it survives failures: ``surveillance.worker``.

``--loop`` is the platform's one clock (docs/decisions/0003-jobs.md): with ``ECMO_BROKER_URL`` set it queues
each pass for ``ecmo worker`` instead of running it here.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecmo_web import jobs
from ecmo_web.surveillance import worker


def queue_pass() -> str:
    jobs.dispatch("surveillance.pass")
    return "surveillance pass queued for the workers"


class Command(BaseCommand):
    help = "Evaluate active runs, escalate unacknowledged alerts and send alert notifications."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--once", action="store_true", help="one pass, then exit")
        mode.add_argument("--loop", action="store_true", help="a pass every --interval seconds until stopped")
        mode.add_argument(
            "--retry-parked", action="store_true", help="release parked work for the next pass, then exit"
        )
        parser.add_argument(
            "--interval", type=float, default=60.0, help="seconds between passes (default 60)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        if options["retry_parked"]:
            self.stdout.write(f"{worker.retry_parked()} parked item(s) released")
            return
        if options["once"]:
            self.stdout.write(worker.one_pass())
            return
        try:
            worker.loop(
                interval_s=options["interval"],
                write=self.stdout.write,
                run_pass=queue_pass if jobs.broker_configured() else None,
            )
        except KeyboardInterrupt:
            self.stdout.write("stopped")
