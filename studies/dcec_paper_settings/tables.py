"""The Result tables of studies/dcec_paper_settings/README.md, from its records."""

from deepclust.composition import class_accuracy_table, mixed_clusters_table
from deepclust.records import markdown_table, mean_std, provenance

RECORD = "dcec_mnist"
MIXED = 0.6  # a cluster whose largest digit holds less than this share is "mixed"


def _record(records):
    return records[RECORD], provenance(records[RECORD], f"studies/dcec_paper_settings/records/{RECORD}.json")


def per_seed(records: dict) -> str:
    """Final ACC / NMI / ARI per seed, the k-means start on the pretrained CAE (the history's first
    row) and where the fine-tuning stopped."""
    record, source = _record(records)
    rows = []
    for run in record["runs"]:
        start, last = run["history"][0], run["history"][-1]
        rows.append([run["seed"], f"{run['acc']:.3f}", f"{run['nmi']:.3f}", f"{run['ari']:.3f}",
                     f"{start['acc']:.3f} / {start['nmi']:.3f}",
                     f"{last['epoch']:.1f} of {run['params']['params']['max_epochs']}",
                     f"{100 * last['label_change']:.3f} %", f"{run['pretraining']['history'][-1]['loss']:.5f}"])
    runs = record["runs"]
    rows.append(["mean ± std", *(mean_std([r[m] for r in runs]) for m in ("acc", "nmi", "ari")),
                 f"{mean_std([r['history'][0]['acc'] for r in runs])} / "
                 f"{mean_std([r['history'][0]['nmi'] for r in runs])}", "", "", ""])
    table = markdown_table(["seed", "ACC", "NMI", "ARI", "k-means start on the CAE (ACC / NMI)",
                            "stopped at epoch", "label change at the stop", "CAE's final MSE"], rows)
    return f"{table}\n\n± is the standard deviation over seeds (ddof 0). {source}"


def digits(records: dict) -> str:
    """Each digit's accuracy under the best one-to-one matching of clusters to digits."""
    record, source = _record(records)
    return f"{class_accuracy_table(record['runs'])}\n\n{source}"


def mixed_clusters(records: dict) -> str:
    """The clusters whose largest digit holds less than MIXED of them, with their two largest digits."""
    record, source = _record(records)
    return mixed_clusters_table(record["runs"], MIXED, "cluster", footer=source)