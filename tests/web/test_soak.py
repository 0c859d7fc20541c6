"""The soak's short form (issue 15 §6): consoles streaming HL7 over MLLP and users browsing, on PostgreSQL.

``scripts/soak.py`` with 5 consoles, 5 users and 45 s against real ``ecmo mllp-listen``, ``ecmo serve`` and two
``ecmo surveil --loop`` workers on loopback, in a database of its own; the 10-minute form (20 consoles, 30
users) is ``make soak`` and its figures are in docs/reliability.md.

- [x] every acknowledged message is stored, none twice, every sample once; nothing refused or unacknowledged
- [x] no HTTP 5xx, no transport error, no unexpected status for any kind of request
- [x] every console's air episode raises the air alert within the bound
- [x] every simulated console and user stops at the deadline
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgres"),
    reason="the soak runs on PostgreSQL: the web leg on PostgreSQL runs it (make test-web-postgres)",
)


def _soak() -> object:
    path = Path(__file__).resolve().parents[2] / "scripts" / "soak.py"
    spec = importlib.util.spec_from_file_location("soak", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_short_soak_loses_nothing_and_raises_every_alert(tmp_path: Path) -> None:
    soak: object = _soak()
    cfg = soak.Config(consoles=5, users=5, seconds=45, database_url=URL)  # type: ignore[attr-defined]
    report = soak.run(cfg, log_dir=tmp_path)  # type: ignore[attr-defined]
    assert report["messages"]["sent"] > 0 and report["http"]["requests"] > 0
    assert soak.problems(report, cfg) == [], report  # type: ignore[attr-defined]
