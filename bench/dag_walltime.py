"""Wall time of the default DAG from scratch (after set-up), repeated, and what it computes.

Each repeat copies the workflow into a fresh temp directory (so nothing is cached) and runs
`snakemake --cores all` there with the venv's snakemake. The record keeps every repeat's seconds
and the per-run metrics of the last repeat (its tables/runs.csv), which the docs show as
the results on digits. Usage:
    .venv/bin/python bench/dag_walltime.py [--repeats 3] [--configfile config/config.yaml]
Writes the record bench/results/dag_walltime.json.

Settings side by side: each `--variant NAME [KEY=VALUE ...]` is one setting of the DAG; every
repeat runs each variant once, in an order that rotates from repeat to repeat, so a slow spell of
the machine falls on all of them. An upper-case KEY is an environment variable of the run; any
other KEY is a dotted config key whose VALUE (YAML) an overlay sets over the configfile:
    .venv/bin/python bench/dag_walltime.py --repeats 3 --variant tracking_off tracking.enabled=false \\
        --variant mlflow_down tracking.live=true MLFLOW_TRACKING_URI=http://127.0.0.1:9
writes bench/results/dag_walltime_tracking_off_mlflow_down.json (a DAG that fails, as a sync
with the store down does, is timed too: its exit status is in the record).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from deepclust import records

ROOT = Path(__file__).resolve().parents[1]
KEPT = ("dataset", "method", "seed", "acc", "nmi", "ari", "silhouette", "davies_bouldin", "calinski_harabasz",
        "n_clusters_found", "noise_fraction", "seconds")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def split_settings(settings: list[str]) -> tuple[dict, dict]:
    """``KEY=VALUE`` settings as (environment variables, config overlay)."""
    env, overlay = {}, {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise SystemExit(f"--variant setting {setting!r}: expected KEY=VALUE")
        if ENV_NAME.fullmatch(key):
            env[key] = value
            continue
        *parents, leaf = key.split(".")
        node = overlay
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(value)
    return env, overlay


def one_run(configfile: str, settings: list[str] = ()) -> tuple[float, int, list[dict]]:
    """Seconds and exit status of one DAG from scratch, and its runs (runs.csv's rows)."""
    env, overlay = split_settings(list(settings))
    with tempfile.TemporaryDirectory(prefix="deepclust-bench-") as tmp:
        for name in ("Snakefile", "workflow", "config", "profiles", "envs"):
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, Path(tmp) / name)
        configfiles = [configfile]
        if overlay:
            (Path(tmp) / "bench_overlay.yaml").write_text(yaml.safe_dump(overlay))
            configfiles.append("bench_overlay.yaml")
        snakemake = Path(sys.executable).parent / "snakemake"
        log = Path(tmp) / "snakemake.log"
        start = time.perf_counter()
        with open(log, "w") as out:
            done = subprocess.run([str(snakemake), "--cores", "all", "--configfile", *configfiles, "--quiet"],
                                  cwd=tmp, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - start
        results = yaml.safe_load((Path(tmp) / configfile).read_text()).get("results", "results")
        table = Path(tmp) / results / "tables" / "runs.csv"
        if not table.exists():
            raise SystemExit(f"the DAG failed (exit {done.returncode}) before its tables:\n"
                             f"{log.read_text()[-3000:]}")
        runs = pd.read_csv(table)
        return seconds, done.returncode, runs[[c for c in KEPT if c in runs]].to_dict("records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument("--variant", nargs="+", action="append", metavar=("NAME", "KEY=VALUE"),
                        help="a setting to time side by side with the others (repeatable)")
    args = parser.parse_args()
    variants = {name: settings for name, *settings in args.variant or [[None]]}
    for settings in variants.values():
        split_settings(settings)  # a malformed setting stops the bench before the first run
    names = list(variants)
    runs = []
    for i in range(args.repeats):
        for name in names[i % len(names):] + names[:i % len(names)]:
            seconds, returncode, results = one_run(args.configfile, variants[name])
            runs.append({"repeat": i, "seconds": seconds} if name is None else
                        {"repeat": i, "variant": name, "seconds": seconds, "returncode": returncode})
            print(f"run {i + 1}{f' {name}' if name else ''}: {seconds:.1f} s (exit {returncode})", flush=True)
    medians = {name: statistics.median(r["seconds"] for r in runs if r.get("variant") == name) for name in names}
    if names == [None]:
        runs[-1]["results"] = results
        out = ROOT / "bench" / "results" / "dag_walltime.json"
        records.write(out, what="the default DAG's wall time from scratch (after set-up), and its results",
                      params={"configfile": args.configfile, "cores": os.cpu_count()}, runs=runs, root=ROOT,
                      summary={"median_seconds": medians[None]})
    else:
        out = ROOT / "bench" / "results" / f"dag_walltime_{'_'.join(names)}.json"
        records.write(out, what=f"the DAG's wall time from scratch at {len(names)} settings, side by side: "
                                + "; ".join(f"{n}: {' '.join(s) or 'as configured'}" for n, s in variants.items()),
                      params={"configfile": args.configfile, "cores": os.cpu_count(), "variants": variants},
                      runs=runs, root=ROOT, summary={"median_seconds": medians})
    print("; ".join(f"{name or 'median'}: {m:.1f} s" for name, m in medians.items()) + f"; wrote {out}")


if __name__ == "__main__":
    main()
