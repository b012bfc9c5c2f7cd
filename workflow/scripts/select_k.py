from deepclust import jobs  # first: it holds the garbage collector while the others import

import sys

from deepclust import io, selection

jobs.start(snakemake)
dataset, space, seed = snakemake.wildcards.dataset, snakemake.params.space, snakemake.params.seed
try:
    choice = selection.choose_k(jobs.load_features(snakemake.input.space), snakemake.params.k_range, seed)
except ValueError as error:  # a k_range beyond the samples: the user's to fix, no traceback
    sys.exit(f"error: datasets.{dataset}.{error}")
io.save_json(snakemake.output.choice, {"dataset": dataset, "k": choice["k"]})
io.save_json(snakemake.output.curve, {"dataset": dataset, "space": space, "seed": seed, **choice})
selection.k_figure(choice, snakemake.output.figure, f"{dataset}: k chosen by the silhouette of k-means on {space} "
                   f"(seed {seed})")
print(f"{dataset}: k = {choice['k']} of {choice['k_range']}")
