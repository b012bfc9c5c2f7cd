import numpy as np

from deepclust import figures, io, jobs
from deepclust.features import umap_embed

jobs.start(snakemake)
_, y, _ = io.load_dataset(snakemake.input.data)
labels = dict(zip(snakemake.params.all_methods, snakemake.input.labels))
shown = None
for space, features, output in zip(snakemake.params.spaces, snakemake.input.features, snakemake.output):
    features = jobs.load_features(features)
    if shown is None:  # the same samples on every map
        shown = jobs.figure_sample(len(features), snakemake.params.max_points, snakemake.params.seed)
    coords = umap_embed(features[shown], n_components=2, n_neighbors=15, min_dist=0.1,
                        random_state=snakemake.params.seed)
    panels = {} if y is None else {"true label": y[shown]}
    panels.update({method: np.load(labels[method])[shown] for method in snakemake.params.methods[space]})
    figures.embedding_scatter(coords, panels, output, f"{snakemake.wildcards.dataset}: UMAP of the {space} "
                              f"space (seed {snakemake.params.seed})")
