from deepclust import data, io, jobs

jobs.start(snakemake)
settings = snakemake.params.settings
X, y, meta = data.load(settings.get("source") or snakemake.wildcards.dataset, preprocess=settings["preprocess"],
                       subsample=settings.get("subsample"))
if settings["n_clusters"] > len(X):
    raise ValueError(f"datasets.{snakemake.wildcards.dataset}.n_clusters={settings['n_clusters']} exceeds the "
                     f"number of samples ({len(X)})")
io.save_dataset(snakemake.output[0], X, y, meta)
print(f"prepared {meta}")
