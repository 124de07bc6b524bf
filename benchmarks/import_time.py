"""Time `python -c "import causalinfer"` against `python -c "import pandas"`, alternating, in one run.

Usage: python benchmarks/import_time.py [--repeats N]
Target: causalinfer / pandas <= 1.3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "pandas": "import pandas",
    "causalinfer": "import causalinfer",
    "causalinfer.Dataset": "from causalinfer import Dataset",
    "numpy": "import numpy",
}


def once(label: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", STATEMENTS[label]], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    for label in STATEMENTS:  # warm the file-system cache
        once(label)
    times: dict[str, list[float]] = {label: [] for label in STATEMENTS}
    for _ in range(args.repeats):
        for module in times:
            times[module].append(once(module))
    med = {m: statistics.median(v) for m, v in times.items()}
    for m, v in med.items():
        print(f"{STATEMENTS[m]:<34} median {v * 1000:7.1f} ms  (min {min(times[m]) * 1000:.1f} ms, {args.repeats} runs)")
    for label in ("causalinfer", "causalinfer.Dataset"):
        ratio = med[label] / med["pandas"]
        print(f"ratio [{STATEMENTS[label]}] / [import pandas] = {ratio:.3f}  (target <= 1.3: {'met' if ratio <= 1.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
