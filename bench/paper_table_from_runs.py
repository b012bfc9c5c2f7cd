"""The paper table (deepclust.paper) from runs made in separate results directories, e.g. seeds
run at different commits or on different machines, which one DAG would rerun rather than table
together. Reads every results/runs/<dataset>/<method>/seed<S>/{metrics,run}.json under each
--results root; a (dataset, method, seed) found twice is an error. Prints the markdown table and
writes the runs (metrics, seconds, commit) and the table's rows to --out.

    .venv/bin/python bench/paper_table_from_runs.py --results /work/exp/results /work/seeds/results \\
        --methods dec idec dcn kmeans-ae kmeans-raw gmm-umap-ae --out bench/results/mlp_mnist_paper_seeds.json
    # a variant compared with its paper's method, as methods.<id>.paper_method does in the DAG:
    ... --paper-method jule-outliers=jule
"""

import argparse
import json
from pathlib import Path

import pandas as pd

from deepclust import io, paper

ROOT = Path(__file__).resolve().parents[1]


def collect(roots: list[Path], methods: list[str] | None) -> pd.DataFrame:
    rows, seen = [], {}
    for root in roots:
        for run_file in sorted(root.glob("runs/*/*/seed*/run.json")):
            run = io.load_json(run_file)  # its tags name the run, as in the summary table's script
            tags = run["tags"]
            dataset, method, seed = tags["dataset"], tags["method"], int(tags["seed"])
            if methods and method not in methods:
                continue
            key = (dataset, method, seed)
            if key in seen:
                raise SystemExit(f"{dataset}/{method}/seed{seed} is in both {seen[key]} and {root}")
            seen[key] = root
            metrics = io.load_json(run_file.parent / "metrics.json")
            rows.append({"dataset": dataset, "method": method, "seed": seed, "results": str(root),
                         "git_commit": tags["git_commit"], "seconds": run["seconds"],
                         **{m: metrics[m] for m in paper.METRICS}})
    if not rows:
        raise SystemExit(f"no runs under {', '.join(map(str, roots))}")
    return pd.DataFrame(rows).sort_values(["dataset", "method", "seed"], ignore_index=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, nargs="+", required=True, help="results directories")
    parser.add_argument("--methods", nargs="*", help="only these method ids (default: all)")
    parser.add_argument("--paper-results", type=Path, default=ROOT / "config" / "paper_results.yaml")
    parser.add_argument("--paper-method", nargs="*", default=[], metavar="OURS=PAPERS",
                        help="compare our method id with the paper's method id")
    parser.add_argument("--source", nargs="*", default=[], metavar="DATASET=SOURCE",
                        help="a dataset id whose source has another name (mnist_cae=mnist)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = collect(args.results, args.methods)
    paper_methods = dict(pair.split("=", 1) for pair in args.paper_method)
    sources = {d: d for d in runs["dataset"].unique()} | dict(pair.split("=", 1) for pair in args.source)
    table = paper.compare(runs, paper.load_reported(args.paper_results), sources, paper_methods)
    print(runs.to_string(index=False))
    print(paper.markdown(table))
    if args.out:
        args.out.write_text(json.dumps({"runs": runs.to_dict("records"), "table": table.to_dict("records")},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
