"""Reproduced vs reported: each paper's published number beside our mean ± std over seeds.

The reported numbers live in config/paper_results.yaml (see load_reported for its layout);
our runs come from results/tables/runs.csv. A reported entry matches the runs of the method id
it names on the datasets whose id or source is the entry's dataset; a variant of a paper's method
(methods.<id>.paper_method in the config) is compared with that method's numbers under its own id.
"""

import math

import numpy as np
import pandas as pd
import yaml

METRICS = ("acc", "nmi", "ari")
HEADERS = {"acc": "ACC", "nmi": "NMI", "ari": "ARI"}
REQUIRED_KEYS = ("method", "dataset", "table", "source", "verified")
ENTRY_KEYS = {*REQUIRED_KEYS, *METRICS}


class ReportedResultsError(ValueError):
    """A malformed paper_results file; the message names the paper and entry."""


def load_reported(path) -> pd.DataFrame:
    """One row per (paper, method, dataset, metric) from a file laid out as

        papers:
          DEC:
            citation: "Xie, Girshick, Farhadi. ... ICML 2016"
            results:
              - {method: dec, dataset: mnist, table: "Table 2", acc: 0.8430,
                 source: "DEC paper, Table 2",   # where the value was read
                 verified: true}                  # read in the paper, the authors' text or a paper quoting it?

    Values are fractions in [0, 1] (84.30 % is 0.8430). A row's ``source`` is the entry's ``table``
    (where in the paper), ``read_in`` its ``source`` and ``verified`` its flag."""
    try:
        with open(path) as f:
            document = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ReportedResultsError(f"{path}: cannot be read as YAML ({error})") from error
    papers = document.get("papers") if isinstance(document, dict) else None
    if not isinstance(papers, dict) or not papers:
        raise ReportedResultsError(f"{path}: no 'papers' mapping")
    rows = []
    for paper, spec in papers.items():
        where = f"{path}: papers.{paper}"
        if not isinstance(spec, dict) or "citation" not in spec or not isinstance(spec.get("results"), list) \
                or not spec["results"]:
            raise ReportedResultsError(f"{where}: needs 'citation' and a non-empty 'results' list")
        if "checked" in spec:
            raise ReportedResultsError(f"{where}: 'checked' is no longer read; mark each entry of 'results' "
                                       "with 'verified: true' or 'verified: false'")
        for i, entry in enumerate(spec["results"]):
            here = f"{where}.results[{i}]"
            if not isinstance(entry, dict):
                raise ReportedResultsError(f"{here}: {entry!r} is not a mapping of {', '.join(REQUIRED_KEYS)}")
            unknown = sorted(set(entry) - ENTRY_KEYS)
            if unknown:
                raise ReportedResultsError(f"{here}: unknown key(s) {unknown}; valid: {sorted(ENTRY_KEYS)}")
            missing = [k for k in REQUIRED_KEYS if k not in entry]
            if missing:
                raise ReportedResultsError(f"{here}: missing {', '.join(missing)}")
            if not isinstance(entry["verified"], bool):
                raise ReportedResultsError(f"{here}.verified: {entry['verified']!r} is not true or false")
            if not isinstance(entry["source"], str) or not entry["source"].strip():
                raise ReportedResultsError(f"{here}.source: {entry['source']!r} does not say where the value was read")
            values = {m: entry[m] for m in METRICS if m in entry}
            if not values:
                raise ReportedResultsError(f"{here}: no metric (one of {', '.join(METRICS)})")
            for metric, value in values.items():
                if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise ReportedResultsError(
                        f"{here}.{metric}: {value!r} is not a fraction in [0, 1] (write 84.3 % as 0.843)")
                rows.append({"paper": paper, "citation": spec["citation"], "verified": entry["verified"],
                             "read_in": entry["source"], "source": entry["table"], "method": entry["method"],
                             "dataset": entry["dataset"], "metric": metric, "reported": float(value)})
    return pd.DataFrame(rows)


def compare(runs: pd.DataFrame, reported: pd.DataFrame, sources: dict[str, str],
            paper_methods: dict[str, str] | None = None) -> pd.DataFrame:
    """Reported rows that some run matches, with our mean, std (ddof 0), seed count and the
    difference (ours - reported). ``sources`` maps each dataset id to its source name;
    ``paper_methods`` maps a method id of ours to the paper's method id it is compared with
    (default: itself). ``method`` is our id, ``paper_method`` the reported entry's."""
    paper_methods = paper_methods or {}
    rows = []
    for entry in reported.itertuples(index=False):
        datasets = [d for d in runs["dataset"].unique() if entry.dataset in (d, sources.get(d, d))]
        methods = [m for m in runs["method"].unique() if paper_methods.get(m, m) == entry.method]
        for dataset in datasets:
            for method in methods:
                ours = runs.loc[(runs["dataset"] == dataset) & (runs["method"] == method), entry.metric]
                ours = ours.dropna()
                if ours.empty:
                    continue
                mean, std = float(ours.mean()), float(ours.std(ddof=0))
                rows.append({**entry._asdict(), "method": method, "paper_method": entry.method,
                             "our_dataset": dataset, "mean": mean, "std": std,
                             "n_seeds": int(ours.size), "difference": mean - float(entry.reported)})
    columns = [*reported.columns, "paper_method", "our_dataset", "mean", "std", "n_seeds", "difference"]
    return pd.DataFrame(rows, columns=columns)


def _wide(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (our dataset, method, paper), the metrics side by side."""
    keys = ["our_dataset", "method", "paper", "source", "verified"]
    wide = table.pivot_table(index=keys, columns="metric", values=["reported", "mean", "std", "difference"],
                             aggfunc="first", sort=False)
    wide.columns = [f"{value}_{metric}" for value, metric in wide.columns]
    return wide.reset_index()


def _best(wide: pd.DataFrame, dataset: str, metric: str) -> float:
    column = f"mean_{metric}"
    if column not in wide:
        return math.nan
    values = wide.loc[wide["our_dataset"] == dataset, column]
    return float(values.max()) if values.notna().any() else math.nan


def _cells(row, metric, best, fmt):
    """(reported, ours, difference) of one metric, in percent; ours bold when best."""
    mean = row.get(f"mean_{metric}", math.nan)
    if mean is None or math.isnan(mean):
        return ["", "", ""]
    ours = fmt["pm"](100 * mean, 100 * row[f"std_{metric}"])
    if np.isclose(mean, best):
        ours = fmt["bold"](ours)
    return [f"{100 * row[f'reported_{metric}']:.1f}", ours, fmt["signed"](100 * row[f"difference_{metric}"])]


MARKDOWN = {"pm": lambda m, s: f"{m:.1f} ± {s:.1f}", "bold": lambda t: f"**{t}**",
            "signed": lambda d: f"{d:+.1f}".replace("-", "−")}
LATEX = {"pm": lambda m, s: f"${m:.1f} \\pm {s:.1f}$", "bold": lambda t: f"\\textbf{{{t}}}",
         "signed": lambda d: f"${d:+.1f}$"}


def _metrics_present(table):
    return [m for m in METRICS if m in set(table["metric"])]


def _datasets(table: pd.DataFrame, fmt: dict):
    """Per dataset of ours: (dataset, metrics shown, rows of cells: method, paper (source) with a
    dagger where not verified, then reported / ours / difference per metric), cells formatted by ``fmt``."""
    wide, metrics = _wide(table), _metrics_present(table)
    for dataset in wide["our_dataset"].unique():
        best = {m: _best(wide, dataset, m) for m in metrics}
        rows = []
        for _, row in wide[wide["our_dataset"] == dataset].iterrows():
            cells = [row["method"], f"{row['paper']} ({row['source']})" + ("" if row["verified"] else " †")]
            for metric in metrics:
                cells += _cells(row, metric, best[metric], fmt)
            rows.append(cells)
        yield dataset, metrics, rows


def markdown(table: pd.DataFrame) -> str:
    """Per dataset: method, paper and source, then reported / ours / difference per metric (%)."""
    if table.empty:
        return "No run matches a reported result.\n"
    lines = []
    for dataset, metrics, rows in _datasets(table, MARKDOWN):
        n_seeds = int(table.loc[table["our_dataset"] == dataset, "n_seeds"].max())
        header = ["Method", "Paper (source)"]
        for metric in metrics:
            header += [f"{HEADERS[metric]} reported", f"{HEADERS[metric]} ours", "Δ"]
        lines += [f"### {dataset}", "", "| " + " | ".join(header) + " |",
                  "|---|---|" + "---:|" * (3 * len(metrics))]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
        lines += ["", f"Percent. Ours: mean ± std over up to {n_seeds} seed(s); Δ = ours − reported, in points; "
                  "the best of our means per metric in bold. "
                  "† not verified against the paper or the authors' own text.", ""]
    return "\n".join(lines)


def _tex(text: str) -> str:
    for char, escaped in (("\\", "\\textbackslash{}"), ("&", "\\&"), ("%", "\\%"), ("_", "\\_"), ("#", "\\#")):
        text = text.replace(char, escaped)
    return text.replace("†", "$^\\dagger$")


def latex(table: pd.DataFrame) -> str:
    """The markdown table as LaTeX (booktabs), one tabular per dataset; \\usepackage{booktabs}."""
    if table.empty:
        return "% No run matches a reported result.\n"
    out = []
    for dataset, metrics, rows in _datasets(table, LATEX):
        out += [f"% {_tex(dataset)}", "\\begin{tabular}{ll" + "rrr" * len(metrics) + "}", "\\toprule",
                " & ".join(["", ""] + [f"\\multicolumn{{3}}{{c}}{{{HEADERS[m]} (\\%)}}" for m in metrics])
                + " \\\\",
                " ".join(f"\\cmidrule(lr){{{3 + 3 * i}-{5 + 3 * i}}}" for i in range(len(metrics))),
                " & ".join(["Method", "Paper"] + ["Reported", "Ours", "$\\Delta$"] * len(metrics)) + " \\\\",
                "\\midrule"]
        out += [" & ".join([_tex(cells[0]), _tex(cells[1]), *cells[2:]]) + " \\\\" for cells in rows]
        out += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(out)
