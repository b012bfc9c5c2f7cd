"""The Result tables of studies/infogan_paper_settings/README.md, from its records."""

from deepclust.composition import class_accuracy_table, mixed_clusters_table
from deepclust.records import markdown_table, mean_std, provenance

RECORD = "infogan_mnist"
MIXED = 0.7  # a category whose largest digit holds less than this share is "mixed"


def _record(records):
    return records[RECORD], provenance(records[RECORD], f"studies/infogan_paper_settings/records/{RECORD}.json")


def per_seed(records: dict) -> str:
    record, source = _record(records)
    runs = record["runs"]
    rows = [[run["seed"], f"{run['acc']:.3f}", f"{run['nmi']:.3f}", f"{run['ari']:.3f}",
             f"{run['history'][-1]['info_loss']:.3f}", f"{run['seconds']:,.0f}"] for run in runs]
    rows.append(["mean ± std", *(mean_std([r[m] for r in runs]) for m in ("acc", "nmi", "ari")), "", ""])
    table = markdown_table(["seed", "ACC", "NMI", "ARI", "info loss, last pass", "seconds"], rows)
    return (f"{table}\n\n± is the standard deviation over seeds (ddof 0); seconds on one core beside other "
            f"jobs. {source}")


def by_pass(records: dict) -> str:
    """ACC of each seed after each pass over the data, and how far apart the seeds' info losses are."""
    record, source = _record(records)
    runs = record["runs"]
    rows = []
    for i, row in enumerate(runs[0]["history"]):
        info = [run["history"][i]["info_loss"] for run in runs]
        rows.append([row["epoch"], *(f"{run['history'][i]['acc']:.3f}" for run in runs), f"{max(info) - min(info):.4f}"])
    header = ["pass", *(f"ACC seed {run['seed']}" for run in runs), "info loss: largest − smallest over seeds"]
    return markdown_table(header, rows) + f"\n\n{source}"


def digits(records: dict) -> str:
    """Each digit's accuracy under the best one-to-one matching of categories to digits."""
    record, source = _record(records)
    return f"{class_accuracy_table(record['runs'])}\n\n{source}"


def mixed_categories(records: dict) -> str:
    """The categories whose largest digit holds less than MIXED of them, with their two largest digits."""
    record, source = _record(records)
    return mixed_clusters_table(record["runs"], MIXED, "category", footer=source)