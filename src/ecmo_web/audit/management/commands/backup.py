"""``ecmo backup FILE``: a consistent backup of the database (SQLite online backup, or pg_dump)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecmo_web.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent backup of the configured database to FILE (whole or not at all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = backup(options["file"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"backup written to {options['file']}: {counts.total} rows in {len(counts.rows)} tables"
            )
        )
