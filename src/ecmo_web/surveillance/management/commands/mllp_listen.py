"""``ecmo mllp-listen --host 127.0.0.1 --port 2575 [--code-map FILE.toml] [--default-tz ZONE] [--program ID …]``.

Receives HL7 v2 ORU^R01 over MLLP from device gateways, stores the mapped observations (messages arriving together
share one transaction) and acknowledges each only after its commit (docs/hl7-mllp.md). Rule evaluation follows the
commit, coalesced per run, in an evaluator thread started here (``--no-evaluator`` when ``ecmo surveil`` workers do
it). Stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecmo_core import hl7v2
from ecmo_core.errors import InputError
from ecmo_web import mllp
from ecmo_web.accounts.models import Program
from ecmo_web.surveillance.evaluation_queue import Evaluator, interval_s
from ecmo_web.surveillance.hl7_ingest import Ingestor, ListenerConfig


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
        parser.add_argument(
            "--program",
            type=int,
            action="append",
            dest="programs",
            metavar="ID",
            help="serve only this program's patients, runs and consoles (repeatable; default: every program)",
        )
        parser.add_argument(
            "--no-evaluator",
            action="store_true",
            help="do not evaluate rules here (ecmo surveil workers evaluate the queued runs)",
        )
        parser.add_argument(
            "--evaluation-interval",
            type=float,
            default=None,
            help="evaluate a run at most once per this many seconds (default ECMO_EVALUATION_INTERVAL_S, 1)",
        )
        parser.add_argument(
            "--group-window-ms",
            type=float,
            default=2.0,
            help="after a group of several messages, wait up to this long for as many to share the next "
            "transaction (default 2 ms; a lone sender never waits)",
        )
        parser.add_argument(
            "--reuse-port",
            action="store_true",
            help="let several listener processes share the port (SO_REUSEPORT)",
        )

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
        programs = None
        if options["programs"]:
            programs = frozenset(options["programs"])
            missing = programs - set(Program.objects.filter(pk__in=programs).values_list("pk", flat=True))
            if missing:
                raise CommandError(f"--program: no program with id {', '.join(map(str, sorted(missing)))}")
        every = options["evaluation_interval"]
        if every is not None and every <= 0:
            raise CommandError("--evaluation-interval must be a positive number of seconds")
        if not 0 <= options["group_window_ms"] <= 1000:
            raise CommandError("--group-window-ms must be between 0 and 1000")
        config = ListenerConfig(code_map=code_map, default_tz=tz, program_ids=programs)
        evaluator = None if options["no_evaluator"] else Evaluator(every_s=every or interval_s()).start()
        ingestor = Ingestor(
            config,
            window_s=options["group_window_ms"] / 1000,
            on_commit=evaluator.wake if evaluator is not None else None,
        )

        def ready(addresses: list[tuple[str, int]]) -> None:
            where = ", ".join(f"{h}:{p}" for h, p in addresses)
            self.stdout.write(f"MLLP listener on {where} (Ctrl-C to stop)")
            self.stdout.flush()

        try:
            mllp.run_forever(
                ingestor,
                host=options["host"],
                port=options["port"],
                max_message_bytes=options["max_message_bytes"],
                on_ready=ready,
                reuse_port=options["reuse_port"],
            )
        finally:
            ingestor.close()
            if evaluator is not None:
                evaluator.stop()
