"""The label-free selection study's tables, from its records (one per dataset): what each criterion gives up against
the label-best setting, which settings they chose, and the wall time (deepclust.selection computes
the choices, as the workflow's sensitivity rule does)."""

import pandas as pd

from deepclust import selection
from deepclust.records import markdown_table, provenance

NOT_RUN = "Not run yet: `run_study.py` writes the record this part is generated from."
CRITERIA = {"silhouette": "silhouette", "davies_bouldin": "Davies–Bouldin", "calinski_harabasz": "Calinski–Harabasz",
            "stability": "stability"}
NAMES = {"dec": "DEC", "idec": "IDEC", "dcn": "DCN", "n2d": "N2D"}


def _combined(records: dict) -> tuple[pd.DataFrame, dict, str]:
    """Every record's runs together (one record per dataset), the params they share and where they
    come from."""
    runs = pd.concat([pd.DataFrame(record["runs"]) for record in records.values()], ignore_index=True)
    params = {key: {k: v for record in records.values() for k, v in record["params"][key].items()}
              for key in ("values", "paper_settings")}
    sources = " ".join(provenance(record, f"studies/label_free_selection/records/{name}.json")
                       for name, record in sorted(records.items()))
    return runs, params, sources


def _choices(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings = selection.per_setting(runs)
    return settings, selection.select(settings)


def _short(setting: str, method: str) -> str:
    return setting.removeprefix(f"{method}--")


def given_up(records: dict) -> str:
    """Per dataset and method: the label-best setting's mean ACC, the paper setting's, and the ACC
    each criterion's choice gives up against the label-best (points)."""
    if not records:
        return NOT_RUN
    runs, params, source = _combined(records)
    settings, choices = _choices(runs)
    table = selection.sensitivity_table(settings, params["values"], params["paper_settings"])
    rows = []
    for (dataset, method), part in choices.groupby(["dataset", "method"], sort=False):
        mine = table[(table["dataset"] == dataset) & (table["method"] == method)]
        papers = mine.loc[mine["paper"], "acc_mean"]
        paper_acc = f"{100 * papers.iloc[0]:.1f}" if len(papers) else "–"
        best = part.iloc[0]
        cells = [dataset, NAMES[method], len(mine), f"{100 * best['best_acc']:.1f}",
                 f"{100 * mine['acc_mean'].min():.1f}", paper_acc]
        cells += [f"{100 * part.set_index('criterion').loc[c, 'acc_given_up']:.1f}" for c in CRITERIA]
        rows.append(cells)
    mean = choices.groupby("criterion", sort=False)["acc_given_up"].mean()
    rows.append(["all", "mean", "", "", "", "", *(f"{100 * mean[c]:.1f}" for c in CRITERIA)])
    text = markdown_table(["Dataset", "Method", "Settings", "Label-best ACC", "Worst setting's ACC",
                           "Paper setting's ACC", *(f"Given up: {name}" for name in CRITERIA.values())], rows,
                          "---|---" + "|---:" * 8)
    seeds = runs["seed"].nunique()
    return (f"{text}\n\nACC in percent, mean over {seeds} seeds; given up: the label-best setting's mean ACC minus "
            f"the mean ACC of the setting the criterion picks without labels, in points (0: it found the "
            f"label-best). {source}")


def chosen(records: dict) -> str:
    """The settings: label-best, and each criterion's choice."""
    if not records:
        return NOT_RUN
    runs, _, source = _combined(records)
    _, choices = _choices(runs)
    rows = []
    for (dataset, method), part in choices.groupby(["dataset", "method"], sort=False):
        part = part.set_index("criterion")
        rows.append([dataset, NAMES[method], _short(part.iloc[0]["best_acc_setting"], method),
                     *(_short(part.loc[c, "chosen"], method) for c in CRITERIA)])
    return markdown_table(["Dataset", "Method", "Label-best", *CRITERIA.values()], rows, "---|---" + "|---" * 5) + \
        f"\n\n{source}"


def wall_time(records: dict) -> str:
    if not records:
        return NOT_RUN
    lines = []
    for name, record in sorted(records.items()):
        runs = pd.DataFrame(record["runs"])
        wall = record["summary"]["wall_seconds"] / 60
        lines.append(f"{', '.join(runs['dataset'].unique())}: {len(runs)} runs ({runs['setting'].nunique()} settings × "
                     f"{len(record['params']['seeds'])} seeds) in {wall:.0f} min"
                     + (" (continued after a stop)" if record["summary"]["resumed"] else "")
                     + f" on {record['params']['cores']} cores. "
                     + provenance(record, f"studies/label_free_selection/records/{name}.json"))
    return "\n\n".join(lines)
