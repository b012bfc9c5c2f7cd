"""The field study's page: the suite's wall time and its leaderboard, from the record of its runs."""

import pandas as pd

from deepclust import leaderboard
from deepclust.records import latest, markdown_table, provenance


NOT_RUN = "Not run yet: `run_suite.py` writes the record this part is generated from."


def wall_time(records: dict) -> str:
    if not records:
        return NOT_RUN
    rows = []
    for name, record in sorted(records.items()):
        runs = pd.DataFrame(record["runs"])
        rows.append([f"`{' + '.join(record['params']['configfiles'])}`", runs["dataset"].nunique(),
                     runs["method"].nunique(), len(record["params"]["seeds"]), len(runs),
                     f"{record['summary']['wall_seconds'] / 60:.0f} min"
                     + (" (continued after a stop)" if record["summary"]["resumed"] else ""), record["machine"]])
    name, record = latest(records)
    return markdown_table(["Configs", "Datasets", "Methods", "Seeds", "Runs", "Wall time", "Machine"], rows,
                          "---|---:|---:|---:|---:|---:|---") + "\n\n" + \
        provenance(record, f"studies/field_study/records/{name}.json")


def board(records: dict) -> str:
    """The leaderboard of the latest record (deepclust.leaderboard), its headings one level down."""
    if not records:
        return NOT_RUN
    name, record = latest(records)
    page = leaderboard.markdown(leaderboard.build(pd.DataFrame(record["runs"])))
    page = page.split("\n", 2)[2]  # without its title
    page = "\n".join(f"#{line}" if line.startswith("#") else line for line in page.splitlines())
    return page.replace("`critical_difference.png`", "the diagram above") + "\n\n" + \
        provenance(record, f"studies/field_study/records/{name}.json")


def headline(records: dict) -> str:
    """One paragraph for the README: what the latest suite ran, in how long, and its ACC ranking."""
    if not records:
        return NOT_RUN
    name, record = latest(records)
    runs = pd.DataFrame(record["runs"])
    acc = leaderboard.build(runs)["metrics"]["acc"]
    ranks = ", ".join(f"{method} {rank:.1f}" for method, rank in acc["ranks"].items())
    test = acc["friedman"]
    friedman = f"; Friedman test p = {test['p_value']:.3f}" if test is not None else ""
    return (f"Last run offline on a 2-core CPU: {len(runs)} runs ({runs['dataset'].nunique()} datasets, "
            f"{runs['method'].nunique()} methods, {runs['seed'].nunique()} seeds) in "
            f"{record['summary']['wall_seconds'] / 60:.0f} min. Mean rank by ACC (1 = best) over the methods "
            f"that ran on every dataset: {ranks}{friedman}. "
            + provenance(record, f"studies/field_study/records/{name}.json"))
