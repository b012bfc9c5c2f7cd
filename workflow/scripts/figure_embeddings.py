from deepclust import jobs  # first: it holds the garbage collector while the others import

import numpy as np

from deepclust import figures, io
from deepclust.projections import NAMES, PROJECTIONS

jobs.start(snakemake)
_, y, _ = io.load_dataset(snakemake.input.data)
labels = dict(zip(snakemake.params.all_methods, snakemake.input.labels))
projection = snakemake.params.projection
shown = None
for space, features, output in zip(snakemake.params.spaces, snakemake.input.features, snakemake.output):
    features = jobs.load_features(features)
    if shown is None:  # the same samples on every map
        shown = jobs.figure_sample(len(features), snakemake.params.max_points, snakemake.params.seed)
    coords = PROJECTIONS[projection](features[shown], snakemake.params.seed)
    panels = {} if y is None else {"true label": y[shown]}
    panels.update({method: np.load(labels[method])[shown] for method in snakemake.params.methods[space]})
    points = f"{len(shown):,} points" if len(shown) == len(features) else f"{len(shown):,} of {len(features):,} points"
    figures.embedding_scatter(coords, panels, output, f"{snakemake.wildcards.dataset}: {NAMES[projection]} "
                              f"of the {space} space (seed {snakemake.params.seed}, {points})")
