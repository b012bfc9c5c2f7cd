from deepclust import jobs  # first: it holds the garbage collector while the others import
from deepclust import figures
from deepclust.features import kmeans_curve

jobs.start(snakemake)
low, high = snakemake.params.k_range
paths = [snakemake.input.data, *snakemake.input.embeddings]
spaces = {space: jobs.load_features(path) for space, path in zip(snakemake.params.spaces, paths)}
shown = jobs.figure_sample(len(spaces["raw"]), snakemake.params.max_points, snakemake.params.seed)
if high >= len(shown):  # the config check knows a dataset's size only from its subsample
    raise ValueError(f"figures.elbow_k: the largest k, {high}, must be below the {len(shown)} samples of "
                     f"{snakemake.wildcards.dataset}")
curves = {space: kmeans_curve(features[shown], range(low, high + 1), snakemake.params.seed)
          for space, features in spaces.items()}
figures.elbow(curves, snakemake.output[0], f"{snakemake.wildcards.dataset}: k-means inertia and silhouette vs k")
