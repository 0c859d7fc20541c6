"""``ecmo restore FILE [--force]``: restore a backup, then verify the audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecmo_web.audit.chain import verify
from ecmo_web.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore FILE into the configured (empty) database and verify the audit chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = restore(options["file"], force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for table, rows in sorted(counts.rows.items()):
            if rows:
                self.stdout.write(f"{table:40} {rows:>10}")
        result = verify()
        if not result.ok:
            raise CommandError(f"restored, but the audit chain is BROKEN: {result.problem}")
        self.stdout.write(
            self.style.SUCCESS(
                f"restored {counts.total} rows; audit chain intact ({result.checked} events verified)"
            )
        )
