from deepclust import jobs  # first: it holds the garbage collector while the others import

import pandas as pd

from deepclust import selection

jobs.start(snakemake)
criterion, values = snakemake.params.criterion, snakemake.params.values
scores = pd.concat([pd.read_csv(path, dtype={"dataset": str, "method": str, "setting": str})
                    for path in snakemake.input.scores], ignore_index=True)
settings = selection.per_setting(scores)
choices = selection.select(settings)
table = selection.sensitivity_table(settings, values, snakemake.params.paper)
table.to_csv(snakemake.output.csv, index=False)
open(snakemake.output.markdown, "w").write(selection.sensitivity_markdown(table, choices, values, criterion))
choices.to_csv(snakemake.output.selection_csv, index=False)
open(snakemake.output.selection_markdown, "w").write(selection.selection_markdown(choices, criterion))
runs = pd.read_csv(snakemake.input.runs, dtype={"dataset": str, "method": str})
selection.label_free_runs(runs, choices, snakemake.params.method_of, criterion).to_csv(snakemake.output.label_free,
                                                                                      index=False)
