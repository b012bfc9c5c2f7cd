"""Run the label-free selection study and record it: every swept run's scores (the workflow's
<results>/selection/<dataset>/<method>.csv: ACC, NMI, ARI, the internal criteria on the common space,
the stability of its setting) and the wall time, as the record
studies/label_free_selection/records/<name>.json that the study's tables are generated from.

    python studies/label_free_selection/run_study.py \\
        --configfile config/sweep_example.yaml studies/label_free_selection/study.yaml \\
        --out studies/label_free_selection/records/digits.json

The study runs in this checkout (its `results:` folder); one that stopped continues where it
stopped, and the record then says so (``resumed``).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from deepclust import records, sweeps

ROOT = Path(__file__).resolve().parents[2]
SWEPT = ("dec", "idec", "dcn", "n2d")


def merged(paths: list[str]) -> dict:
    """The configs merged key by key, later ones over earlier ones, as snakemake --configfile does."""
    def update(into, new):
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                update(into[key], value)
            else:
                into[key] = value
        return into

    config = {}
    for path in paths:
        update(config, yaml.safe_load((ROOT / path).read_text()))
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", nargs="+", required=True)
    parser.add_argument("--cores", default="all")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    config = merged(args.configfile)
    results = ROOT / config["results"]
    datasets = config["run_datasets"]
    targets = [f"{config['results']}/tables/{name}" for name in ("sensitivity.csv", "selection.csv", "leaderboard.md")]
    targets += [f"{config['results']}/figures/{d}/sensitivity_{m}.png" for d in datasets for m in SWEPT]
    resumed = (results / "runs").exists()
    snakemake = Path(sys.executable).parent / "snakemake"
    start = time.perf_counter()
    done = subprocess.run([str(snakemake), *targets, "--cores", args.cores, "--configfile", *args.configfile],
                          cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"the study failed (exit {done.returncode}); rerun to continue where it stopped")
    scores = pd.concat([pd.read_csv(results / "selection" / d / f"{m}.csv") for d in datasets for m in SWEPT],
                       ignore_index=True)
    methods = config["methods"]
    values = {name: setting for name, (method, setting) in sweeps.Sweep(methods, config["nets"]).settings.items()
              if method in SWEPT}
    records.write(args.out, what="DEC, IDEC, DCN and N2D, each swept over two values of two settings (the study's "
                                 "overlay of config/sweep_example.yaml): each setting's scores, the criteria that "
                                 "choose a setting without labels and what they give up against the label-best "
                                 "setting",
                  root=ROOT,
                  params={"configfiles": args.configfile, "datasets": datasets, "seeds": config["seeds"],
                          "grids": {m: methods[m]["grid"] for m in SWEPT},
                          "paper_settings": {m: methods[m].get("paper_setting", {}) for m in SWEPT},
                          "values": values,
                          "params": {m: methods[m].get("params", {}) for m in SWEPT},
                          "net": config["nets"]["ae"], "umap": config["umap"], "selection": config["selection"],
                          "cores": os.cpu_count()},
                  runs=scores.astype(object).where(scores.notna(), None).to_dict("records"), summary={"wall_seconds": seconds, "resumed": resumed})
    print(f"{len(scores)} runs in {seconds / 60:.1f} min; wrote {args.out}")


if __name__ == "__main__":
    main()
