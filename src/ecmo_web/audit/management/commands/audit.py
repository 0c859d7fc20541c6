"""``ecmo audit verify``: prove the audit chain is intact (exit 1 and name the first bad event if not)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecmo_web.audit.chain import verify


class Command(BaseCommand):
    help = "Audit trail tools. 'verify' checks every event's hash and link to its predecessor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        if not result.ok:
            where = f"event {result.broken_event_id}" if result.broken_event_id else "the end of the chain"
            raise CommandError(
                f"audit chain BROKEN at {where}: {result.problem} "
                f"({result.checked} events verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.checked} events verified"))
