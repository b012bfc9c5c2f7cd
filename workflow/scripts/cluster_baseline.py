import time

from deepclust import io, jobs, methods

jobs.start(snakemake)
dataset, method, seed = snakemake.wildcards.dataset, snakemake.wildcards.method, int(snakemake.wildcards.seed)
spec = snakemake.params.spec
X, y, _ = io.load_dataset(snakemake.input.data)
features = jobs.load_features(snakemake.input.features)

estimator = methods.get(spec["algorithm"])(snakemake.params.n_clusters, random_state=seed, **spec.get("params", {}))
start = time.perf_counter()
labels = estimator.fit_predict(features)
seconds = time.perf_counter() - start

jobs.finish_run(snakemake, key=f"{dataset}/{method}/seed{seed}", params={**spec, "seed": seed},
                tags={"dataset": dataset, "method": method, "seed": seed, "stage": "baseline"}, seconds=seconds,
                labels=labels, X=X, y=y, embedding=features)
