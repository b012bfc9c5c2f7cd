from deepclust import jobs  # first: it holds the garbage collector while the others import

import pandas as pd

from deepclust import selection

jobs.start(snakemake)
dataset, method, criterion = snakemake.wildcards.dataset, snakemake.wildcards.method, snakemake.params.criterion
settings = selection.per_setting(pd.read_csv(snakemake.input[0], dtype={"dataset": str, "method": str,
                                                                         "setting": str}))
chosen = selection.select(settings, [criterion])["chosen"].iloc[0]
selection.sensitivity_figure(settings, snakemake.params.values, snakemake.params.paper, chosen, snakemake.output[0],
                             f"{dataset}: {method}, mean ± std over seeds; ringed: the {criterion} choice")
