from deepclust import jobs  # first: it holds the garbage collector while the others import

import time

from deepclust import io, methods, runs

jobs.start(snakemake)
dataset, seed = snakemake.wildcards.dataset, int(snakemake.wildcards.seed)
X, y, _ = io.load_dataset(snakemake.input.data)
spaces = {space: jobs.load_features(path) for space, path in zip(snakemake.params.spaces, snakemake.input.features)}

for method, spec in snakemake.params.specs.items():
    features = spaces[spec["features"]]
    estimator = methods.get(spec["algorithm"])(snakemake.params.n_clusters, random_state=seed,
                                               **spec.get("params", {}))
    start = time.perf_counter()
    labels = estimator.fit_predict(features)
    seconds = time.perf_counter() - start
    runs.finish_run(snakemake.params.run_dirs[method], **runs.identity(dataset, method, seed, "baseline"),
                    params={**spec, "seed": seed}, seconds=seconds, labels=labels, X=X, y=y, embedding=features)
