from deepclust import jobs  # first: it holds the garbage collector while the others import
from deepclust import io
from deepclust.features import umap_embed

jobs.start(snakemake)
settings = snakemake.params.settings
features = umap_embed(jobs.load_features(snakemake.input[0]),
                      n_components=settings["n_components"] or snakemake.params.n_clusters,
                      n_neighbors=settings["n_neighbors"], min_dist=settings["min_dist"],
                      random_state=int(snakemake.wildcards.seed))
io.save_array(snakemake.output[0], features)
