"""`make bench`: run every bench/bench_*.py, print their figures, write bench/results.json.

Each script prints its human-readable lines and, last, one JSON object of figures; the JSON
objects are merged into bench/results.json. Figures are ratios against baselines measured in the
same run (machines here are noisy), not absolute times to compare across machines.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    results: dict[str, object] = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    failed = []
    for script in sorted(BENCH.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        lines = run.stdout.strip().splitlines()
        figures = (
            json.loads(lines[-1])
            if run.returncode == 0 and lines and lines[-1].startswith("{")
            else None
        )
        for line in lines[:-1] if figures else lines:
            print(f"   {line}")
        if figures is None:
            failed.append(script.name)
            print(f"   FAILED (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
            continue
        results.update(figures)
    (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"figures written to {BENCH / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
