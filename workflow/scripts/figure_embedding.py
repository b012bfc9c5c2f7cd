import numpy as np

from deepclust import figures, io, jobs
from deepclust.features import umap_embed

jobs.start(snakemake)
_, y, _ = io.load_dataset(snakemake.input.data)
coords = umap_embed(jobs.load_features(snakemake.input.features), n_components=2, n_neighbors=15, min_dist=0.1,
                    random_state=snakemake.params.seed)
panels = {} if y is None else {"true label": y}
panels.update({method: np.load(path) for method, path in zip(snakemake.params.methods, snakemake.input.labels)})
space = snakemake.wildcards.space
figures.embedding_scatter(coords, panels, snakemake.output[0],
                          f"{snakemake.wildcards.dataset}: UMAP of the {space} space (seed {snakemake.params.seed})")
