"""The coverage-guided fuzz harnesses of ``make fuzz`` (atheris), each run briefly so they never rot.

- each harness's target takes its seed and 1,500 deterministic random mutations of it without a crash (the
  short form, run in-process: libFuzzer itself runs in ``make fuzz``)
- a harness fails loudly (non-zero exit, the input kept) when the code under it raises something undocumented:
  proven by fuzzing a deliberately broken target
"""

from __future__ import annotations

import importlib
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("atheris", reason="atheris is a dev dependency; it builds on x86_64 and aarch64 Linux")


def _mutations(seed: bytes, count: int) -> list[bytes]:
    rng = random.Random(20261204)  # deterministic: a failure here is reproducible
    out = [seed]
    for _ in range(count):
        data = bytearray(rng.choice(out))
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(4)
            at = rng.randrange(len(data) + 1)
            if op == 0 and data:
                del data[at : at + rng.randint(1, 8)]
            elif op == 1:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
            elif op == 2:
                data[at:at] = rng.choice(
                    [b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b",", b'"', b"\x0b", b"\x1c"]
                )
            elif data:
                start = rng.randrange(len(data))
                data[at:at] = data[start : start + rng.randint(1, 40)]
        out.append(bytes(data[:4096]))
    return out


@pytest.mark.parametrize("module", ["fuzz.hl7_triage", "fuzz.csv_read", "fuzz.calculators"])
def test_it_runs_each_harness_without_a_crash(module: str) -> None:
    harness = importlib.import_module(module)
    seed = getattr(harness, "SEED", "").encode() or bytes(range(64))
    for data in _mutations(seed, 1500):
        harness.test_one(data)


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
