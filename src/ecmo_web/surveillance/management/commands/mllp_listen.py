"""``ecmo mllp-listen --host 127.0.0.1 --port 2575 [--code-map FILE.toml] [--default-tz ZONE]``.

Receives HL7 v2 ORU^R01 over MLLP from device gateways, stores the mapped observations and acknowledges only
after they are committed (docs/hl7-mllp.md). Stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecmo_core import hl7v2
from ecmo_core.errors import InputError
from ecmo_web import mllp
from ecmo_web.surveillance.hl7_ingest import ListenerConfig, handle


class Command(BaseCommand):
    help = "Listen for HL7 v2 ORU^R01 messages over MLLP and store their observations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)
        parser.add_argument("--code-map", type=Path, help="TOML file of extra code → parameter mappings")
        parser.add_argument(
            "--default-tz",
            default="UTC",
            help="zone for HL7 times that carry no offset (and MSH-7 has none), e.g. Europe/London",
        )
        parser.add_argument("--max-message-bytes", type=int, default=mllp.DEFAULT_MAX_MESSAGE_BYTES)

    def handle(self, *args: Any, **options: Any) -> None:
        code_map = hl7v2.DEFAULT_CODE_MAP
        if options["code_map"]:
            try:
                data = tomllib.loads(options["code_map"].read_text())
                code_map = hl7v2.code_map_from_mapping(data.get("codes", data))
            except (OSError, tomllib.TOMLDecodeError, InputError) as exc:
                raise CommandError(f"--code-map {options['code_map']}: {exc}") from exc
        try:
            tz = zoneinfo.ZoneInfo(options["default_tz"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"--default-tz: {options['default_tz']!r} is not an IANA time zone") from exc
        config = ListenerConfig(code_map=code_map, default_tz=tz)

        def ready(addresses: list[tuple[str, int]]) -> None:
            where = ", ".join(f"{h}:{p}" for h, p in addresses)
            self.stdout.write(f"MLLP listener on {where} (Ctrl-C to stop)")

        mllp.run_forever(
            partial(handle, config=config),
            host=options["host"],
            port=options["port"],
            max_message_bytes=options["max_message_bytes"],
            on_ready=ready,
        )
