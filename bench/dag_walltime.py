"""Wall time of the default DAG from scratch (after set-up), repeated, and what it computes.

Each repeat copies the workflow into a fresh temp directory (so nothing is cached) and runs
`snakemake --cores all` there with the venv's snakemake. The record keeps every repeat's seconds
and job profile (each rule's jobs and job-seconds, read from Snakemake's log, and how many cores
were busy on average) and the per-run metrics of the last repeat (its tables/runs.csv), which the docs show as
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

Code side by side: the setting ``commit=REF`` runs the workflow and the library of git revision REF
(``git archive``; its src/ first on PYTHONPATH) instead of the checkout's, so a change is timed
against the code before it in one invocation, and the record says whether both computed the same:
    .venv/bin/python bench/dag_walltime.py --repeats 3 --variant before commit=HEAD~1 --variant after
"""

import argparse
import datetime
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
TIMESTAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
RULE = re.compile(r"^(?:local)?(?:checkpoint|rule) (\S+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISHED = re.compile(r"^Finished jobid: (\d+)")
WORKFLOW = ("Snakefile", "workflow", "config", "profiles", "envs")


def split_settings(settings: list[str]) -> tuple[dict, dict, str | None]:
    """``KEY=VALUE`` settings as (environment variables, config overlay, git revision or None)."""
    env, overlay, commit = {}, {}, None
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise SystemExit(f"--variant setting {setting!r}: expected KEY=VALUE")
        if key == "commit":
            commit = value
            continue
        if ENV_NAME.fullmatch(key):
            env[key] = value
            continue
        *parents, leaf = key.split(".")
        node = overlay
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(value)
    return env, overlay, commit


def resolve_commit(ref: str) -> str:
    """The full hash of ``ref``; a name git does not know stops the bench before any run."""
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"--variant setting commit={ref}: not a git revision of {ROOT}")
    return done.stdout.strip()


def copy_code(dest: Path, commit: str | None) -> dict:
    """The workflow (and for a commit its library) into ``dest``; the environment that makes the
    jobs import that library."""
    if commit is None:
        for name in WORKFLOW:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, dest / name)
        return {}
    archive = subprocess.run(["git", "archive", commit, *WORKFLOW, "src"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return {"PYTHONPATH": str(dest / "src")}


def one_run(configfile: str, settings: list[str] = ()) -> tuple[float, int, list[dict], dict]:
    """Seconds and exit status of one DAG from scratch, its runs (runs.csv's rows) and its job
    profile (job_profile of Snakemake's log)."""
    env, overlay, commit = split_settings(list(settings))
    with tempfile.TemporaryDirectory(prefix="deepclust-bench-") as tmp:
        env = {**copy_code(Path(tmp), commit), **env}  # main() resolved the commit to its hash
        configfiles = [configfile]
        if overlay:
            (Path(tmp) / "bench_overlay.yaml").write_text(yaml.safe_dump(overlay))
            configfiles.append("bench_overlay.yaml")
        snakemake = Path(sys.executable).parent / "snakemake"
        log = Path(tmp) / "snakemake.log"
        start = time.perf_counter()
        with open(log, "w") as out:
            done = subprocess.run([str(snakemake), "--cores", "all", "--configfile", *configfiles],
                                  cwd=tmp, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - start
        results = yaml.safe_load((Path(tmp) / configfile).read_text()).get("results", "results")
        table = Path(tmp) / results / "tables" / "runs.csv"
        if not table.exists():
            raise SystemExit(f"the DAG failed (exit {done.returncode}) before its tables:\n"
                             f"{log.read_text()[-3000:]}")
        runs = pd.read_csv(table)
        profile = job_profile(log.read_text(errors="replace"))
        return seconds, done.returncode, runs[[c for c in KEPT if c in runs]].to_dict("records"), profile


def job_profile(log_text: str) -> dict:
    """Where a DAG's time went, from Snakemake's log (whole seconds): each rule's jobs and
    job-seconds, the wall time from the first job's start to the last one's end, and how busy
    the cores were on average (job-seconds over that wall time)."""
    now, rule, started, spans = None, None, {}, []
    for line in log_text.splitlines():
        if match := TIMESTAMP.match(line):
            now = datetime.datetime.strptime(match[1], "%a %b %d %H:%M:%S %Y")
        elif match := RULE.match(line):
            rule = match[1]
        elif (match := JOBID.match(line)) and rule is not None:
            started[match[1]], rule = (rule, now), None
        elif (match := FINISHED.match(line)) and match[1] in started:
            name, start = started.pop(match[1])
            spans.append((name, start, now))
    if not spans:
        return {}
    rules = {}
    for name, start, end in spans:
        entry = rules.setdefault(name, {"jobs": 0, "job_seconds": 0.0})
        entry["jobs"] += 1
        entry["job_seconds"] += (end - start).total_seconds()
    wall = (max(end for _, _, end in spans) - min(start for _, start, _ in spans)).total_seconds()
    busy = sum(entry["job_seconds"] for entry in rules.values())
    return {"rules": dict(sorted(rules.items(), key=lambda item: -item[1]["job_seconds"])),
            "jobs_wall_seconds": wall, "mean_busy_jobs": round(busy / wall, 2) if wall else None}


def resolved(setting: str) -> str:
    """A setting as the record keeps it: ``commit=REF`` with REF's full hash. A malformed setting
    or an unknown revision stops the bench before the first run."""
    _, _, commit = split_settings([setting])
    return f"commit={resolve_commit(commit)}" if commit else setting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument("--variant", nargs="+", action="append", metavar=("NAME", "KEY=VALUE"),
                        help="a setting to time side by side with the others (repeatable)")
    args = parser.parse_args()
    variants = {name: [resolved(setting) for setting in settings] for name, *settings in args.variant or [[None]]}
    names = list(variants)
    runs, last = [], {}
    for i in range(args.repeats):
        for name in names[i % len(names):] + names[:i % len(names)]:
            seconds, returncode, last[name], profile = one_run(args.configfile, variants[name])
            runs.append({"repeat": i, "seconds": seconds, "profile": profile} if name is None else
                        {"repeat": i, "variant": name, "seconds": seconds, "returncode": returncode,
                         "profile": profile})
            print(f"run {i + 1}{f' {name}' if name else ''}: {seconds:.1f} s (exit {returncode})", flush=True)
    medians = {name: statistics.median(r["seconds"] for r in runs if r.get("variant") == name) for name in names}
    if names == [None]:
        runs[-1]["results"] = last[None]
        out = ROOT / "bench" / "results" / "dag_walltime.json"
        records.write(out, what="the default DAG's wall time from scratch (after set-up), and its results",
                      params={"configfile": args.configfile, "cores": os.cpu_count()}, runs=runs, root=ROOT,
                      summary={"median_seconds": medians[None]})
    else:
        for name in names:  # each variant's results, from its last repeat
            next(r for r in reversed(runs) if r["variant"] == name)["results"] = last[name]
        computed = [[{k: v for k, v in row.items() if k != "seconds"} for row in last[name]] for name in names]
        out = ROOT / "bench" / "results" / f"dag_walltime_{'_'.join(names)}.json"
        records.write(out, what=f"the DAG's wall time from scratch at {len(names)} settings, side by side: "
                                + "; ".join(f"{n}: {' '.join(s) or 'as configured'}" for n, s in variants.items()),
                      params={"configfile": args.configfile, "cores": os.cpu_count(), "variants": variants},
                      runs=runs, root=ROOT, summary={"median_seconds": medians,
                                                     "same_results": all(c == computed[0] for c in computed)})
    print("; ".join(f"{name or 'median'}: {m:.1f} s" for name, m in medians.items()) + f"; wrote {out}")


if __name__ == "__main__":
    main()
