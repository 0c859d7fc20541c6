"""``ecmo worker [--concurrency N] [--queues ecmo]``: a Celery worker for the jobs ``ecmo_web.jobs`` queues.

Needs ``ECMO_BROKER_URL`` (``redis://host:6379/0`` or ``amqp://…``); without one, jobs run in the process that
dispatches them and no worker is needed. Run as many workers, on as many machines, as the load asks for: they
share the database and the broker, and hold no state of their own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a Celery worker for background jobs (needs ECMO_BROKER_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=2, help="jobs run at once (default 2)")
        parser.add_argument(
            "--queues", default="ecmo", help="comma-separated queues to consume (default ecmo)"
        )
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "ECMO_BROKER_URL is not set: jobs run in-process, there is nothing for a worker to do"
            )
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be 1 or more")
        from ecmo_web.jobs import app

        app.conf.broker_url = settings.CELERY_BROKER_URL
        app.worker_main(
            [
                "worker",
                f"--concurrency={options['concurrency']}",
                f"--queues={options['queues']}",
                f"--loglevel={options['loglevel']}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
