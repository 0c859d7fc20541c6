"""``python -m fuzz [SECONDS]``: run each coverage-guided harness for SECONDS (default 60) with atheris.

Each harness feeds bytes the fuzzer mutates (guided by which branches of our code they reach) into one parser
that takes outside input, and fails on any exception other than the documented refusal. A crash leaves its input
in ``var/fuzz/crash-*`` for a regression test. Without atheris (it builds only on some platforms) the command
says so and exits 0: the hypothesis fuzz tests in the test suite still run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HARNESSES = ("fuzz.hl7_triage", "fuzz.csv_read", "fuzz.calculators")


def main() -> int:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    try:
        import atheris  # noqa: F401
    except ImportError:
        print(
            "atheris is not installed here: coverage-guided fuzzing skipped (hypothesis fuzz tests still run)"
        )
        return 0
    out = Path(os.environ.get("ECMO_VAR_DIR", "var")) / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for module in HARNESSES:
        corpus = out / module.split(".")[1]
        corpus.mkdir(exist_ok=True)
        print(f"— {module}: {seconds} s", flush=True)
        result = subprocess.run(  # noqa: S603 - our own harness modules
            [
                sys.executable,
                "-m",
                module,
                f"-max_total_time={seconds}",
                f"-artifact_prefix={out}/crash-{module.split('.')[1]}-",
                "-print_final_stats=1",
                str(corpus),
            ],
            check=False,
        )
        if result.returncode != 0:
            failed.append(module)
    if failed:
        print(f"harnesses that found a crash: {', '.join(failed)} (inputs in {out})")
        return 1
    print("no crash found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
