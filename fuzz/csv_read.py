"""Harness: any bytes as a console CSV export → ``read_wide_csv`` parses or refuses with ``InputError``."""

from __future__ import annotations

import sys

import atheris

from fuzz._seed import plant

with atheris.instrument_imports():
    from ecmo_core.errors import InputError
    from ecmo_core.replay import read_wide_csv

SEED = "observed_at,blood_flow_l_min,fdo2\n2026-11-20T10:00:00Z,4.1,0.6\n2026-11-20T10:01:00Z,,1\n"


def test_one(data: bytes) -> None:
    try:
        read_wide_csv(data.decode("utf-8", errors="replace"))
    except InputError as exc:
        assert exc.field  # names the column (or observed_at)


def main() -> None:
    test_one(SEED.encode())
    plant(sys.argv, [SEED.encode()])
    atheris.instrument_all()  # every loaded module, including calculators imported lazily
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
