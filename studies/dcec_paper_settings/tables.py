"""The Result tables of studies/dcec_paper_settings/README.md, from its records."""

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
    rows = [[run["seed"], *(f"{run['composition']['acc_per_class'][str(d)]:.3f}" for d in range(10))]
            for run in record["runs"]]
    return markdown_table(["seed", *map(str, range(10))], rows) + f"\n\n{source}"


def mixed_clusters(records: dict) -> str:
    """The clusters whose largest digit holds less than MIXED of them, with their two largest digits."""
    record, source = _record(records)
    rows = [[run["seed"], f"{c['size']:,}",
             " + ".join(f"{100 * share:.1f} % {digit}s" for digit, share in zip(c["top_classes"], c["top_shares"]))]
            for run in record["runs"] for c in run["composition"]["clusters"] if c["top_shares"][0] < MIXED]
    seeds = [run["seed"] for run in record["runs"]]
    clean = [s for s in seeds if s not in {row[0] for row in rows}]
    note = f"Seed {', '.join(map(str, clean))}: no cluster below {100 * MIXED:.0f} % of one digit. " if clean else ""
    return markdown_table(["seed", "cluster size", "its two largest digits"], rows, "---:|---:|---") + \
        f"\n\n{note}{source}"
