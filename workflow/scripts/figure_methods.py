from deepclust import jobs  # first: it holds the garbage collector while the others import

import pandas as pd

from deepclust import figures

jobs.start(snakemake)
summary = pd.read_csv(snakemake.input[0])
dataset = snakemake.wildcards.dataset
figures.method_bars(summary[summary["dataset"] == dataset], snakemake.output[0],
                    f"{dataset}: mean ± std over seeds")
