from deepclust import jobs  # first: it holds the garbage collector while the others import

import pandas as pd

from deepclust import leaderboard

jobs.start(snakemake)
runs = pd.read_csv(snakemake.input[0])
if not leaderboard.labelled_metrics(runs):  # unlabelled data: no ACC, NMI or ARI to rank by
    message = "No labels: the leaderboard ranks by ACC, NMI and ARI, which need them.\n"
    for path in (snakemake.output.markdown, snakemake.output.latex):
        open(path, "w").write(message if path.endswith(".md") else f"% {message}")
    pd.DataFrame().to_csv(snakemake.output.csv, index=False)
    leaderboard.critical_difference_figure({"ACC": None}, snakemake.output.figure)
else:
    board = leaderboard.build(runs, reference=snakemake.params.reference)
    open(snakemake.output.markdown, "w").write(leaderboard.markdown(board))
    open(snakemake.output.latex, "w").write(leaderboard.latex(board))
    board["per_dataset"].to_csv(snakemake.output.csv, index=False)
    panels = {name.upper(): (entry["ranks"], entry["nemenyi"]) if entry["nemenyi"] is not None else None
              for name, entry in board["metrics"].items() if name in ("acc", "nmi")}
    leaderboard.critical_difference_figure(panels, snakemake.output.figure)
    print(f"leaderboard of {len(runs['method'].unique())} methods on {len(board['datasets'])} dataset(s)")
