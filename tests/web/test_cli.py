"""The `ecmo` console script: pure subcommands start without Django; the rest are management commands.

- `ecmo calc` prints JSON and exits 0; bad input exits 2 naming the field ("fraction")
- `ecmo replay` prints transitions; `--json` a list
- `ecmo seed-demo` maps to seed_demo; an unknown subcommand fails
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ecmo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecmo_web.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_it_calculates_and_reports_bad_input() -> None:
    ok = _ecmo("calc", "pf_ratio_mmhg", "--json", '{"pao2_mmhg": 68, "fio2": 1.0}')
    assert ok.returncode == 0 and json.loads(ok.stdout) == 68.0
    bad = _ecmo("calc", "pf_ratio_mmhg", "--json", '{"pao2_mmhg": 68, "fio2": 100}')
    assert bad.returncode == 2 and "fio2" in bad.stderr and "fraction" in bad.stderr


def test_it_replays_a_csv_as_json() -> None:
    out = _ecmo(
        "replay", "docs/rules/example-delta-p.csv", "--config", "docs/rules/example-replay.toml", "--json"
    )
    assert out.returncode == 0
    transitions = json.loads(out.stdout)
    assert any(t["rule_id"] == "oxygenator.delta_p_rise" and t["to"] == "firing" for t in transitions)
    assert set(transitions[0]) == {"at", "rule_id", "from", "to", "severity", "message"}


def test_it_runs_management_commands_with_hyphenated_names() -> None:
    out = _ecmo("seed-demo", "--help")
    assert out.returncode == 0 and "--password" in out.stdout
    assert _ecmo("no-such-command").returncode != 0
