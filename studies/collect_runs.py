"""A record of finished workflow runs: every runs/<dataset>/<method>/seed<S>/ under the given
results folders, with its metrics, time and the commit its run.json names. Several folders can be
combined (seeds run in separate working trees); a (dataset, method, seed) found twice is an error.
The studies use it after the workflow has run, e.g.

    snakemake --cores all --configfile config/paper_cpu.yaml && \\
    python studies/collect_runs.py --results results/paper_cpu --methods dec idec dcn --paper-comparison \\
        --what "DEC, IDEC and DCN at the papers' settings on MNIST" --out studies/<name>/records/<file>.json

--paper-comparison marks the record for the docs' paper tables; --paper-method names the paper's
method of a variant of ours (as methods.<id>.paper_method does in the workflow).
"""

import argparse
import sys
from pathlib import Path

from deepclust import io, records

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("acc", "nmi", "ari", "silhouette")


def collect(roots: list[Path], methods: list[str] | None) -> list[dict]:
    runs, seen = [], {}
    for root in roots:
        for run_file in sorted(root.glob("runs/*/*/seed*/run.json")):
            run = io.load_json(run_file)  # its tags name the run, as in the summary table's script
            tags = run["tags"]
            dataset, method, seed = tags["dataset"], tags["method"], int(tags["seed"])
            if methods and method not in methods:
                continue
            if (dataset, method, seed) in seen:
                raise SystemExit(f"{dataset}/{method}/seed{seed} is in both {seen[dataset, method, seed]} and {root}")
            seen[dataset, method, seed] = root
            metrics = io.load_json(run_file.parent / "metrics.json")
            runs.append({"dataset": dataset, "method": method, "seed": seed, "commit": tags["git_commit"],
                         "seconds": run["seconds"], **{m: metrics[m] for m in METRICS if m in metrics}})
    if not runs:
        raise SystemExit(f"no finished runs under {', '.join(map(str, roots))}")
    return sorted(runs, key=lambda r: (r["dataset"], r["method"], r["seed"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, nargs="+", required=True, help="results folders")
    parser.add_argument("--methods", nargs="*", help="only these method ids (default: all)")
    parser.add_argument("--what", required=True, help="one sentence: what the runs measure")
    parser.add_argument("--command", help="the workflow command that made the runs (recorded before this one)")
    parser.add_argument("--paper-comparison", action="store_true", help="compare these runs with the papers")
    parser.add_argument("--paper-method", nargs="*", default=[], metavar="OURS=PAPERS",
                        help="a variant's method id and the paper's method id it is compared with")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs = collect(args.results, args.methods)
    command = records.command_line(ROOT)
    if args.command:
        command = f"{args.command} && {command}"
    extra = {"paper_comparison": True} if args.paper_comparison else {}
    if args.paper_method:
        extra["paper_methods"] = dict(pair.split("=", 1) for pair in args.paper_method)
    commits = {r["commit"] for r in runs}
    # the runs' commit when they agree; otherwise each run names its own and the record the checkout's
    records.write(args.out, what=args.what, command=command, root=ROOT, commit=commits.pop() if len(commits) == 1
                  else None, params={"methods": sorted({r["method"] for r in runs}),
                                     "seeds": sorted({r["seed"] for r in runs})}, runs=runs, **extra)
    print(f"{len(runs)} runs -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
