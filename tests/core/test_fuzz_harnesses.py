"""The coverage-guided fuzz harnesses of ``make fuzz`` (atheris), each run briefly so they never rot.

- each harness starts from its seed, runs a few thousand mutated inputs and finds no crash (exit 0)
- a harness fails loudly (non-zero exit, the input kept) when the code under it raises something undocumented:
  proven by fuzzing a deliberately broken target
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("atheris", reason="atheris is a dev dependency; it builds on x86_64 and aarch64 Linux")


def _run(module: str, tmp_path: Path, runs: int = 1500) -> subprocess.CompletedProcess[str]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return subprocess.run(
        [sys.executable, "-m", module, f"-runs={runs}", f"-artifact_prefix={tmp_path}/crash-", str(corpus)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("module", ["fuzz.hl7_triage", "fuzz.csv_read", "fuzz.calculators"])
def test_it_runs_each_harness_without_a_crash(module: str, tmp_path: Path) -> None:
    result = _run(module, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Done" in result.stderr
    assert not list(tmp_path.glob("crash-*"))


def test_it_reports_a_crash_and_keeps_the_input(tmp_path: Path) -> None:
    harness = tmp_path / "broken_harness.py"
    harness.write_text(
        "import sys, atheris\n"
        "def test_one(data):\n"
        "    if data[:1] == b'M':\n"
        "        raise KeyError('undocumented')\n"
        "atheris.Setup(sys.argv, test_one)\n"
        "atheris.Fuzz()\n"
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed").write_bytes(b"MSH")
    result = subprocess.run(
        [sys.executable, str(harness), "-runs=100", f"-artifact_prefix={tmp_path}/crash-", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0 and "KeyError" in result.stdout + result.stderr
    assert list(tmp_path.glob("crash-*"))
