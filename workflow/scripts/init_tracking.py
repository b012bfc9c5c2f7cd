from deepclust import jobs  # first: it holds the garbage collector while the others import
from deepclust import tracking

jobs.start(snakemake)
info = tracking.init_store(snakemake.output[0], snakemake.params.uri, snakemake.params.experiment,
                           snakemake.params.artifact_root)
print(f"MLflow store: {info}")
