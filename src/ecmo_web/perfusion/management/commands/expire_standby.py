"""``ecmo expire_standby``: one pass of the standby-circuit expiry (for cron until the surveillance worker calls
``expire_standby_circuits`` on each pass). Prints the notices it recorded."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ecmo_web.perfusion.actions.standby import expire_standby_circuits


class Command(BaseCommand):
    help = "Mark primed standby circuits past their expiry as expired and record expiry notices."

    def handle(self, *args: Any, **options: Any) -> None:
        notices = expire_standby_circuits(timezone.now())
        for notice in notices:
            self.stdout.write(f"{notice.program.name}: {notice.message}")
        self.stdout.write(f"{len(notices)} notice(s)")
