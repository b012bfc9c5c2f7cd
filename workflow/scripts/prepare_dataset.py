import os
import sys
from pathlib import Path

# torch (imported only by network features) reads this when it loads: no more threads than given
os.environ["OMP_NUM_THREADS"] = str(snakemake.threads)

from deepclust import jobs  # first: it holds the garbage collector while the others import
from deepclust import data, devices, io
from deepclust.data.remote import mirror_directory
from deepclust.data.tabular import UserFileError


def refuse(message):
    """A problem with the user's data, not a bug: its reason in the log, no traceback, exit 1."""
    print(f"error: datasets.{dataset}: {message}", file=sys.stderr)
    sys.exit(1)


jobs.start(snakemake)
dataset, settings = snakemake.wildcards.dataset, snakemake.params.settings
# network features run on a free GPU, held until exit, as training does ("any": no network)
device = "cpu" if snakemake.params.device == "any" else devices.claim(snakemake.params.device)
downloaded = [Path(f).parent for f in snakemake.input if Path(f).match("datasets/*/MANIFEST.json")]
try:
    X, y, meta = data.load(snakemake.params.source, settings, directory=downloaded[0] if downloaded else None,
                           preprocess=settings["preprocess"], subsample=settings.get("subsample"),
                           device=device,
                           mirror=mirror_directory(snakemake.config["data"]["mirror"]),
                           models=Path(snakemake.params.models))
except UserFileError as error:
    refuse(error)
# n_clusters: auto: select_k checks its k_range against the samples it clusters
if settings["n_clusters"] != "auto" and settings["n_clusters"] > len(X):
    subsample = settings.get("subsample")
    samples = f"{len(X)} samples" + (f" after subsample: {subsample}" if subsample == len(X) else "")
    where = f" (file {settings['path']})" if snakemake.params.source == "file" else ""
    refuse(f"n_clusters is {settings['n_clusters']} but the dataset has only {samples}{where}; "
           "lower n_clusters or give it more samples")
io.save_dataset(snakemake.output[0], X, y, meta)
print(f"prepared {meta}")
