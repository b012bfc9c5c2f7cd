rule umap_features:
    input:
        f"{PRETRAIN}/embedding.npy",
    output:
        UMAP_FEATURES,
    log:
        f"{LOGS}/umap_features/{{dataset}}/umap-{{net}}/seed{{seed}}.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        settings=config["umap"],
        n_clusters=n_clusters,
        code=fingerprint("umap_features.py"),
    script:
        "../scripts/umap_features.py"


rule cluster_baseline:
    input:
        data=DATA,
        features=baseline_features,
    output:
        labels=f"{RUN}/labels.npy",
        metrics=f"{RUN}/metrics.json",
        run=f"{RUN}/run.json",
    log:
        f"{LOGS}/cluster/{{dataset}}/{{method}}/seed{{seed}}.log",
    wildcard_constraints:
        method=ids_regex(BASELINE_IDS),
    conda:
        "../../envs/deepclust.yaml"
    params:
        spec=lambda wildcards: METHODS[wildcards.method],
        n_clusters=n_clusters,
        code=fingerprint("cluster_baseline.py", "deepclust.methods.baselines"),
    script:
        "../scripts/cluster_baseline.py"
