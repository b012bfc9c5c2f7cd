"""The Result tables of studies/paper_settings_mnist/README.md, from its records."""

from deepclust.records import markdown_table, mean_std, provenance

RECORD = "mlp_mnist"
METHODS = [("dec", "DEC"), ("idec", "IDEC"), ("dcn", "DCN"), ("kmeans-ae", "AE + k-means (the others' start)"),
           ("kmeans-raw", "k-means on pixels"), ("gmm-umap-ae", "N2D (UMAP + GMM)")]


def _per_seed(records: dict, metric: str) -> str:
    record = records[RECORD]
    seeds = sorted({run["seed"] for run in record["runs"]})
    rows = []
    for method, label in METHODS:
        values = {run["seed"]: run[metric] for run in record["runs"] if run["method"] == method}
        rows.append([label, *(f"{100 * values[s]:.1f}" for s in seeds),
                     mean_std([values[s] for s in seeds], 100, 1)])
    table = markdown_table(["Method", *(f"seed {s}" for s in seeds), "mean ± std"], rows)
    return (f"{table}\n\n{metric.upper()} in percent; ± is the standard deviation over seeds (ddof 0). "
            + provenance(record, f"studies/paper_settings_mnist/records/{RECORD}.json"))


def acc_per_seed(records: dict) -> str:
    return _per_seed(records, "acc")


def nmi_per_seed(records: dict) -> str:
    return _per_seed(records, "nmi")
