"""``ecmo seed-demo [--password P]``: load the synthetic demo program (refuses a non-demo database)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ecmo_web.demo.base import STAFF
from ecmo_web.demo.seed import DEFAULT_PASSWORD, NotADemoDatabase, seed_demo


class Command(BaseCommand):
    help = "Create the synthetic demo program with one user per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password for every demo user")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            seed_demo(now=timezone.now(), password=options["password"], progress=self.stdout.write)
        except NotADemoDatabase as exc:
            raise CommandError(str(exc), returncode=2) from exc
        roles = ", ".join(u for u in STAFF if not u[-1].isdigit())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded. Log in as any of: {roles}, outsider — password {options['password']!r}"
            )
        )
