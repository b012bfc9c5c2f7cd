from deepclust import jobs  # first: it holds the garbage collector while the others import

from pathlib import Path

import numpy as np

from deepclust import centres, data

N_TERMS = 10

jobs.start(snakemake)
dataset, settings = snakemake.wildcards.dataset, snakemake.params.settings
# the documents' TF-IDF, whatever features the methods clustered: the same rows as the prepared data
tfidf, y, meta = data.load(snakemake.params.source, {**settings, "features": "tfidf"},
                           directory=Path(snakemake.input.download).parent, preprocess="none",
                           subsample=settings.get("subsample"))
sections = {}
for method, labels in zip(snakemake.params.methods, snakemake.input.labels):
    labels = np.load(labels)
    clusters = centres.largest_clusters(labels, snakemake.params.n_clusters)
    sections[method] = (labels, clusters, centres.distinctive_terms(tfidf, meta["terms"], labels, clusters, N_TERMS))
note = (f"Features clustered: {settings['features']}; seed {snakemake.params.seed}. Each method's clusters, "
        f"largest first (at most {snakemake.params.n_clusters}, noise left out): their documents, "
        + ("the true class most of them carry and its share, " if y is not None else "")
        + f"and the {N_TERMS} words whose mean TF-IDF in the cluster most exceeds their mean over all documents.")
table = centres.terms_table(f"{dataset}: the words of each cluster", note, sections, meta.get("class_names"), y)
Path(snakemake.output[0]).write_text(table)
print(f"wrote the words of {len(sections)} methods' clusters")
