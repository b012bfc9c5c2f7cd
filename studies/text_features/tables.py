"""The text-features study's page: each method's ACC and NMI on each feature space of 20 Newsgroups,
from the record of its runs (TF-IDF, word2vec) and the field study's (MiniLM: the same network,
training and seeds)."""

from pathlib import Path

import pandas as pd

from deepclust.records import acc_nmi_cells, latest, load, markdown_table, provenance

FIELD_STUDY = "studies/field_study/records/cpu_offline.json"

NOT_RUN = "Not run yet: `run_suite.py` writes the record this part is generated from."
SPACES = {"newsgroups_tfidf": "TF-IDF (2,000 words)", "newsgroups_minilm": "MiniLM (384-d)",
          "newsgroups_word2vec": "word2vec (100-d)"}
METHODS = {"kmeans-raw": "k-means", "kmeans-ae": "AE + k-means", "n2d": "N2D", "dec": "DEC"}


def comparison(records: dict) -> str:
    """A row per feature space, ACC and NMI (percent, mean ± std over seeds) per method."""
    if not records:
        return NOT_RUN
    name, record = latest(records)
    field_study = load(Path(__file__).resolve().parents[2] / FIELD_STUDY)
    minilm = pd.DataFrame(field_study["runs"])
    runs = pd.concat([pd.DataFrame(record["runs"]), minilm[minilm["dataset"] == "newsgroups_minilm"]])
    rows = []
    for dataset, label in SPACES.items():
        cells = [label]
        for method in METHODS:
            cells += acc_nmi_cells(runs[(runs["dataset"] == dataset) & (runs["method"] == method)])
        rows.append(cells)
    header = ["Features", *[f"{label} {m}" for label in METHODS.values() for m in ("ACC", "NMI")]]
    # the TF-IDF runs repeat the field study's (same settings and seeds): a check that the rows compare
    key = ["method", "seed"]
    ours = pd.DataFrame(record["runs"]).query("dataset == 'newsgroups_tfidf'").set_index(key)["acc"]
    theirs = minilm.query("dataset == 'newsgroups_tfidf'").set_index(key)["acc"].reindex(ours.index)
    gap = (ours - theirs).abs().max()
    repeat = ("Its TF-IDF runs give the field study's ACC exactly. " if gap == 0 else
              f"Its TF-IDF runs differ from the field study's by up to {100 * gap:.1f} points of ACC. ")
    seeds = ", ".join(str(s) for s in record["params"]["seeds"])
    wall = record["summary"]["wall_seconds"] / 60
    return (markdown_table(header, rows)
            + f"\n\nPercent, mean ± std over seeds {seeds}; the study's runs took {wall:.0f} min; the MiniLM row is "
            + "the field study's. " + repeat + provenance(record, f"studies/text_features/records/{name}.json") + " "
            + provenance(field_study, FIELD_STUDY))
