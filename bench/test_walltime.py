"""Wall time of `make test` (lint, the test suite, the documentation's build) in this checkout, with
the suite's passed / skipped / failed counts; writes the record bench/results/test_walltime.json.
Usage, from a clean checkout whose .venv is built (`make venv`):
    .venv/bin/python bench/test_walltime.py [--repeats 1]
Set DEEPCLUST_DATA_MIRROR as CI does to include the real-data tests.
"""

import argparse
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

from deepclust import records

ROOT = Path(__file__).resolve().parents[1]


def one_run() -> dict:
    start = time.perf_counter()
    result = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    summary = re.findall(r"^=*\s*(\d+ \w+.*) in ([\d.]+)s", result.stdout, re.M)
    counts = {name: int(n) for n, name in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)",
                                                       summary[-1][0])} if summary else {}
    return {"seconds": seconds, "pytest_seconds": float(summary[-1][1]) if summary else None,
            "returncode": result.returncode, **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeats):
        runs.append(one_run())
        print(runs[-1], flush=True)
    records.write(ROOT / "bench" / "results" / "test_walltime.json", what="wall time of `make test` and its counts",
                  params={"data_mirror": bool(os.environ.get("DEEPCLUST_DATA_MIRROR")), "cores": os.cpu_count()},
                  runs=runs, root=ROOT, summary={"median_seconds": statistics.median(r["seconds"] for r in runs)})


if __name__ == "__main__":
    main()
