"""Wall time of the default DAG from scratch (after set-up), repeated; writes bench/results/dag_walltime.json.

Each repeat copies the workflow into a fresh temp directory (so nothing is cached) and runs
`snakemake --cores all` there with the venv's snakemake. Usage:
    .venv/bin/python bench/dag_walltime.py [--repeats 3] [--configfile config/config.yaml]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import device_name

ROOT = Path(__file__).resolve().parents[1]


def one_run(configfile: str) -> float:
    with tempfile.TemporaryDirectory(prefix="deepclust-bench-") as tmp:
        for name in ("Snakefile", "workflow", "config", "profiles", "envs"):
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, Path(tmp) / name)
        snakemake = Path(sys.executable).parent / "snakemake"
        start = time.perf_counter()
        subprocess.run([str(snakemake), "--cores", "all", "--configfile", configfile, "--quiet"], cwd=tmp,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configfile", default="config/config.yaml")
    args = parser.parse_args()
    times = []
    for i in range(args.repeats):
        times.append(one_run(args.configfile))
        print(f"run {i + 1}: {times[-1]:.1f} s", flush=True)
    result = {"benchmark": "default DAG wall time from scratch", "configfile": args.configfile,
              "seconds": times, "median_seconds": statistics.median(times), "cpu": device_name(),
              "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    out = ROOT / "bench" / "results" / "dag_walltime.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
