"""Wall time of the default DAG from scratch (after set-up), repeated, and what it computes.

Each repeat copies the workflow into a fresh temp directory (so nothing is cached) and runs
`snakemake --cores all` there with the venv's snakemake. The record keeps every repeat's seconds
and the per-run metrics of the last repeat (its results/tables/runs.csv), which the docs show as
the results on digits. Usage:
    .venv/bin/python bench/dag_walltime.py [--repeats 3] [--configfile config/config.yaml]
Writes the record bench/results/dag_walltime.json.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from deepclust import records

ROOT = Path(__file__).resolve().parents[1]
KEPT = ("dataset", "method", "seed", "acc", "nmi", "ari", "silhouette", "davies_bouldin", "calinski_harabasz",
        "n_clusters_found", "noise_fraction", "seconds")


def one_run(configfile: str) -> tuple[float, list[dict]]:
    """Seconds of one DAG from scratch, and its runs (runs.csv's rows)."""
    with tempfile.TemporaryDirectory(prefix="deepclust-bench-") as tmp:
        for name in ("Snakefile", "workflow", "config", "profiles", "envs"):
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, Path(tmp) / name)
        snakemake = Path(sys.executable).parent / "snakemake"
        start = time.perf_counter()
        subprocess.run([str(snakemake), "--cores", "all", "--configfile", configfile, "--quiet"], cwd=tmp,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        runs = pd.read_csv(Path(tmp) / "results" / "tables" / "runs.csv")
        return seconds, runs[[c for c in KEPT if c in runs]].to_dict("records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configfile", default="config/config.yaml")
    args = parser.parse_args()
    runs = []
    for i in range(args.repeats):
        seconds, results = one_run(args.configfile)
        runs.append({"repeat": i, "seconds": seconds})
        print(f"run {i + 1}: {seconds:.1f} s", flush=True)
    runs[-1]["results"] = results
    out = ROOT / "bench" / "results" / "dag_walltime.json"
    records.write(out, what="the default DAG's wall time from scratch (after set-up), and its results",
                  params={"configfile": args.configfile, "cores": os.cpu_count()}, runs=runs, root=ROOT,
                  summary={"median_seconds": statistics.median(r["seconds"] for r in runs)})
    print(f"median {statistics.median(r['seconds'] for r in runs):.1f} s; wrote {out}")


if __name__ == "__main__":
    main()
