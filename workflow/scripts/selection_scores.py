from deepclust import jobs  # first: it holds the garbage collector while the others import

import numpy as np
import pandas as pd

from deepclust import io, selection

jobs.start(snakemake)
dataset, method, seeds = snakemake.wildcards.dataset, snakemake.wildcards.method, snakemake.params.seeds
spaces = {seed: jobs.load_features(path) for seed, path in zip(seeds, snakemake.input.spaces)}
runs = iter(zip(snakemake.input.labels, snakemake.input.metrics))  # setting by setting, seed by seed
rows = []
for setting in snakemake.params.settings:
    partitions = []
    for seed in seeds:
        labels_file, metrics_file = next(runs)
        labels, metrics = np.load(labels_file), io.load_json(metrics_file)
        partitions.append(labels)
        rows.append({"dataset": dataset, "method": method, "setting": setting, "seed": seed,
                     **{m: metrics[m] for m in selection.LABELLED if m in metrics},
                     **selection.internal_scores(spaces[seed], labels)})
    for row in rows[-len(seeds):]:
        row["stability"] = selection.stability(partitions)
pd.DataFrame(rows).to_csv(snakemake.output[0], index=False)
