"""``ecmo serve [--host 127.0.0.1] [--port 8000] [--workers N] [--threads T] [--bind ADDR]``: the production server.

Gunicorn with several worker processes (default ``2 × cores + 1``, at most 8) serving
``ecmo_web.wsgi:application``; static files come from WhiteNoise in the same processes, so no separate file
server is needed. Without a broker each worker also runs an evaluator thread for the runs its requests queued
(``--no-evaluator`` when another process does it). Workers share nothing but the database (and the cache and broker when configured), so a
worker that dies is replaced without losing anything. Put a TLS-terminating proxy in front (docs/deploy.md).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from gunicorn.app.base import BaseApplication

from ecmo_web import jobs

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


class Command(BaseCommand):
    help = "Serve ECMO Steward with gunicorn (default 127.0.0.1:8000)."
    requires_system_checks = []  # checked by `ecmo check --deploy`; each worker loads the app itself

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--bind", action="append", help="address to listen on (HOST:PORT or unix:PATH); repeatable"
        )
        parser.add_argument("--workers", type=int, default=None, help="worker processes (2 × cores + 1, ≤ 8)")
        parser.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds before a stuck worker is replaced"
        )
        parser.add_argument(
            "--no-evaluator",
            action="store_true",
            help="do not evaluate queued runs in the web workers (another process does: ecmo mllp-listen, "
            "ecmo surveil --loop, or Celery workers)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"] or default_workers()
        if workers < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be 1 or more")
        if not 0 <= options["port"] <= 65535:
            raise CommandError("--port must be between 0 and 65535")
        binds = options["bind"] or [f"{options['host']}:{options['port']}"]
        config = {
            "bind": binds,
            "workers": workers,
            "threads": options["threads"],
            "timeout": options["timeout"],
            "graceful_timeout": 30,
            "worker_class": "gthread" if options["threads"] > 1 else "sync",
            "accesslog": "-",
            "errorlog": "-",
            "forwarded_allow_ips": os.environ.get("ECMO_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "proc_name": "ecmo-steward",
        }
        if not options["no_evaluator"] and not jobs.broker_configured():
            config["post_worker_init"] = _start_evaluator
        where = ", ".join(f"http://{b}/" for b in binds)
        self.stdout.write(f"ECMO Steward on {where} with {workers} worker(s) (Ctrl-C to stop)")
        self.stdout.flush()
        _Server(config).run()


def _start_evaluator(worker: Any) -> None:
    """Each web worker evaluates the runs its requests queued (surveillance.evaluation_queue), when no broker is set."""
    from ecmo_web.surveillance import evaluation_queue

    evaluation_queue.start_in_process()


class _Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn configured from the command's options, not from its own command line."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._config.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from ecmo_web.wsgi import application

        return application
