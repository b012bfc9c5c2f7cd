from deepclust import jobs  # first: it holds the garbage collector while the others import

from functools import lru_cache

import numpy as np

from deepclust import centres, figures, io
from deepclust.nn import networks

N_NEAREST = 6  # members drawn beside each centre

jobs.start(snakemake)
X, _, meta = io.load_dataset(snakemake.input.data)
models = dict(zip(snakemake.params.decoded, snakemake.input.models))
load_space = lru_cache(jobs.load_features)  # baselines share spaces (the raw data, a net's embedding)
panels = {}
for method, labels, space in zip(snakemake.params.methods, snakemake.input.labels, snakemake.input.spaces):
    labels = np.load(labels)
    decode = centres.decoder(jobs.read_input(networks.load, models[method])) if method in models else None
    clusters = centres.largest_clusters(labels, snakemake.params.n_clusters)
    if len(clusters):  # a labelling that is all noise has no cluster to draw
        name = f"{method}: {'decoded centre' if decode else 'mean image'}"
        panels[name] = centres.centre_rows(X, load_space(space), labels, clusters, N_NEAREST, decode)
figures.centres_grid(panels, meta["image_shape"], (float(X.min()), float(X.max())), snakemake.output[0],
                     f"{snakemake.wildcards.dataset}: each cluster's centre, then its {N_NEAREST} nearest members "
                     f"(seed {snakemake.params.seed})")
