"""Run the field study (config/benchmark.yaml, or with overlays) from scratch and record it: the wall
time, and every run's metrics (the suite's runs.csv), as the record
studies/field_study/records/<name>.json that the study's leaderboard page is generated from (and,
beside it, the suite's critical-difference diagram). Other studies that are one workflow config
run through it too (``--what`` names them).

    DEEPCLUST_DATA_MIRROR=<folder> python studies/field_study/run_suite.py \\
        --configfile config/benchmark.yaml config/benchmark_offline.yaml --out studies/field_study/records/cpu_offline.json

The suite runs in this checkout (its `results:` folder); a suite that stopped continues where it
stopped, and the record then says so (``resumed``).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from deepclust import records

ROOT = Path(__file__).resolve().parents[2]
KEPT = ("dataset", "method", "seed", "acc", "nmi", "ari", "silhouette", "n_clusters_found", "noise_fraction",
        "seconds")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", nargs="+", default=["config/benchmark.yaml"])
    parser.add_argument("--cores", default="all")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--what", default="the field study", help="what the record is of (another study's name)")
    args = parser.parse_args()
    config = {}
    for path in args.configfile:
        config.update(yaml.safe_load((ROOT / path).read_text()))
    results = ROOT / config["results"]
    resumed = (results / "runs").exists()
    snakemake = Path(sys.executable).parent / "snakemake"
    start = time.perf_counter()
    done = subprocess.run([str(snakemake), "--cores", args.cores, "--configfile", *args.configfile], cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"the suite failed (exit {done.returncode}); rerun to continue where it stopped")
    runs = pd.read_csv(results / "tables" / "runs.csv")
    shutil.copyfile(results / "figures" / "critical_difference.png", args.out.with_suffix(".png"))
    command = records.command_line(ROOT)
    if os.environ.get("DEEPCLUST_DATA_MIRROR"):
        command = f"DEEPCLUST_DATA_MIRROR=<a data mirror> {command}"
    records.write(args.out, what=f"{args.what} {' + '.join(args.configfile)}: every method on every dataset and "
                                 "seed it lists, from scratch", command=command, root=ROOT,
                  params={"configfiles": args.configfile, "datasets": sorted(runs["dataset"].unique()),
                          "seeds": sorted(int(s) for s in runs["seed"].unique()), "cores": os.cpu_count()},
                  runs=runs[[c for c in KEPT if c in runs]].to_dict("records"),
                  summary={"wall_seconds": seconds, "resumed": resumed})
    print(f"{len(runs)} runs in {seconds / 60:.1f} min; wrote {args.out}")


if __name__ == "__main__":
    main()
