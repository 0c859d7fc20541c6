"""``ecmo roles-doc``: write docs/roles.md from the permission matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ecmo_web.roles_doc import render_roles_markdown


class Command(BaseCommand):
    help = "Regenerate docs/roles.md from ecmo_web.permissions.MATRIX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default="docs/roles.md")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(options["output"]).write_text(render_roles_markdown())
        self.stdout.write(f"wrote {options['output']}")
