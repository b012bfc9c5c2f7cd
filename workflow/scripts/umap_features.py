from deepclust import io, jobs
from deepclust.features import umap_embed

jobs.start(snakemake)
settings = snakemake.params.settings
for seed, embedding_file, output in zip(snakemake.params.seeds, snakemake.input, snakemake.output):
    features = umap_embed(jobs.load_features(embedding_file),
                          n_components=settings["n_components"] or snakemake.params.n_clusters,
                          n_neighbors=settings["n_neighbors"], min_dist=settings["min_dist"], random_state=seed)
    io.save_array(output, features)
