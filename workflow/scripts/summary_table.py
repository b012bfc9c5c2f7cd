from deepclust import jobs  # first: it holds the garbage collector while the others import
from deepclust import io, tables

jobs.start(snakemake)
# datasets with n_clusters: auto: the k every method there was given
selected = {choice["dataset"]: choice["k"] for choice in map(io.load_json, snakemake.input.selected_k)}
records = []
for metrics_file, run_file in zip(snakemake.input.metrics, snakemake.input.runs):
    tags = io.load_json(run_file)["tags"]
    k = {"n_clusters_selected": selected[tags["dataset"]]} if tags["dataset"] in selected else {}
    records.append({"dataset": tags["dataset"], "method": tags["method"], "seed": int(tags["seed"]),
                    **io.load_json(metrics_file), **k})
runs = tables.collect(records)
summary = tables.summarise(runs)
runs.to_csv(snakemake.output.runs_csv, index=False)
summary.to_csv(snakemake.output.csv, index=False)
with open(snakemake.output.markdown, "w") as f:
    f.write(tables.markdown(summary))
