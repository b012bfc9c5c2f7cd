"""The metric-loss study's page: each loss's ACC and NMI per dataset, from the record of its runs."""

import pandas as pd

from deepclust.records import acc_nmi_cells, latest, markdown_table, provenance

NOT_RUN = "Not run yet: `run_suite.py` writes the record this part is generated from."
# method id in study.yaml -> how the table names it
LOSSES = {"batch-hard": "Batch hard (Hermans et al. 2017)", "semi-hard": "Semi-hard (FaceNet, 2015)",
          "contrastive": "Contrastive (Hadsell et al. 2006)", "angular": "Angular (Wang et al. 2017)",
          "npair": "Multi-class N-pair (Sohn 2016)", "kmeans-ae": "k-means on the pretrained embedding"}


def comparison(records: dict) -> str:
    """Dataset columns (ACC and NMI, percent, mean ± std over seeds), a row per loss, and the mean
    time of a run."""
    if not records:
        return NOT_RUN
    name, record = latest(records)
    runs = pd.DataFrame(record["runs"])
    datasets = sorted(runs["dataset"].unique())
    rows = []
    for method, label in LOSSES.items():
        mine = runs[runs["method"] == method]
        cells = [label]
        for dataset in datasets:
            cells += acc_nmi_cells(mine[mine["dataset"] == dataset])
        cells.append(f"{mine['seconds'].mean():.0f}" if len(mine) else "–")
        rows.append(cells)
    header = ["Loss", *[f"{d} {m}" for d in datasets for m in ("ACC", "NMI")], "Time per run (s)"]
    seeds = ", ".join(str(s) for s in record["params"]["seeds"])
    wall = record["summary"]["wall_seconds"] / 60
    return (markdown_table(header, rows, "|".join(["---"] + ["---:"] * (len(header) - 1)))
            + f"\n\nPercent, mean ± std over seeds {seeds}; the whole study took {wall:.0f} min. "
            + provenance(record, f"studies/metric_losses/records/{name}.json"))
