"""The text-features study's page: each method's ACC and NMI on each feature space of 20 Newsgroups,
from the record of its runs."""

import pandas as pd

from deepclust.records import markdown_table, mean_std, provenance

NOT_RUN = "Not run yet: `run_suite.py` writes the record this part is generated from."
SPACES = {"newsgroups_tfidf": "TF-IDF (2,000 words)", "newsgroups_minilm": "MiniLM (384-d)",
          "newsgroups_word2vec": "word2vec (100-d)"}
METHODS = {"kmeans-raw": "k-means", "kmeans-ae": "AE + k-means", "n2d": "N2D", "dec": "DEC"}


def comparison(records: dict) -> str:
    """A row per feature space, ACC and NMI (percent, mean ± std over seeds) per method."""
    if not records:
        return NOT_RUN
    name = sorted(records)[-1]
    record = records[name]
    runs = pd.DataFrame(record["runs"])
    rows = []
    for dataset, label in SPACES.items():
        cells = [label]
        for method in METHODS:
            of = runs[(runs["dataset"] == dataset) & (runs["method"] == method)]
            cells += [mean_std(of["acc"], 100, 1), mean_std(of["nmi"], 100, 1)] if len(of) else ["–", "–"]
        rows.append(cells)
    header = ["Features", *[f"{label} {m}" for label in METHODS.values() for m in ("ACC", "NMI")]]
    seeds = ", ".join(str(s) for s in record["params"]["seeds"])
    wall = record["summary"]["wall_seconds"] / 60
    return (markdown_table(header, rows)
            + f"\n\nPercent, mean ± std over seeds {seeds}; the whole study took {wall:.0f} min. "
            + provenance(record, f"studies/text_features/records/{name}.json"))
