"""Give a harness's corpus folder its seed inputs, so mutation starts from a well-formed message or file."""

from __future__ import annotations

from pathlib import Path


def plant(argv: list[str], seeds: list[bytes]) -> None:
    for arg in argv[1:]:
        folder = Path(arg)
        if not arg.startswith("-") and folder.is_dir() and not any(folder.iterdir()):
            for index, seed in enumerate(seeds):
                (folder / f"seed-{index}").write_bytes(seed)
