import os
from pathlib import Path

# torch (imported only by network features) reads this when it loads: no more threads than given
os.environ["OMP_NUM_THREADS"] = str(snakemake.threads)

from deepclust import data, io, jobs
from deepclust.data.remote import mirror_directory

jobs.start(snakemake)
dataset, settings = snakemake.wildcards.dataset, snakemake.params.settings
downloaded = [Path(f).parent for f in snakemake.input if Path(f).match("datasets/*/MANIFEST.json")]
X, y, meta = data.load(snakemake.params.source, settings, directory=downloaded[0] if downloaded else None,
                       preprocess=settings["preprocess"], subsample=settings.get("subsample"),
                       device=snakemake.config["device"], mirror=mirror_directory(snakemake.config["data"]["mirror"]),
                       models=Path(snakemake.params.models))
if settings["n_clusters"] > len(X):
    raise ValueError(f"datasets.{dataset}.n_clusters={settings['n_clusters']} exceeds the number of samples "
                     f"({len(X)})")
io.save_dataset(snakemake.output[0], X, y, meta)
print(f"prepared {meta}")
