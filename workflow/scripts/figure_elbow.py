from deepclust import figures, jobs
from deepclust.features import kmeans_curve

jobs.start(snakemake)
low, high = snakemake.params.k_range
paths = [snakemake.input.data, *snakemake.input.embeddings]
curves = {space: kmeans_curve(jobs.load_features(path), range(low, high + 1), snakemake.params.seed)
          for space, path in zip(snakemake.params.spaces, paths)}
figures.elbow(curves, snakemake.output[0], f"{snakemake.wildcards.dataset}: k-means inertia and silhouette vs k")
