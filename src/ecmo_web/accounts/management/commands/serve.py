"""``ecmo serve``: serve the app (with its static files) on 127.0.0.1:8000.

This is Django's threaded development server with static files served by WhiteNoise: right for a demo or a
single workstation. A production site runs ``ecmo_web.wsgi:application`` under a WSGI server (docs/deploy.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve ECMO Steward (default 127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"ECMO Steward on http://{options['host']}:{options['port']}/ (Ctrl-C to stop)")
        call_command(
            "runserver", f"{options['host']}:{options['port']}", use_reloader=False, insecure_serving=True
        )
