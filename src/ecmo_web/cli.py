"""The ``ecmo`` command.

``ecmo calc`` and ``ecmo replay`` are pure (ecmo_core) and start without Django or a database. Every other
subcommand is a Django management command (``ecmo migrate``, ``ecmo seed-demo``, ``ecmo serve``,
``ecmo mllp-listen``, ``ecmo audit verify`` …).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `ecmo replay … | head`: the reader left; not an error worth a traceback
        sys.stderr.close()
        return 0


def _dispatch(args: list[str]) -> int:
    if args and args[0] == "calc":
        from ecmo_core.calc import main as calc_main

        return calc_main(args[1:])
    if args and args[0] == "replay":
        from ecmo_core.replay import main as replay_main

        return replay_main(args[1:])
    if args and not args[0].startswith("-"):
        # ``ecmo seed-demo`` → Django's ``seed_demo``: hyphens read better on a command line.
        args[0] = args[0].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecmo_web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ecmo", *args])
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m ecmo_web.cli`
    raise SystemExit(main())
