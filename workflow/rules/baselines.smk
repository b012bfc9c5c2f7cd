rule umap_features:
    input:
        f"{PRETRAIN}/embedding.npy",
    output:
        UMAP_FEATURES,
    params:
        settings=config["umap"],
        n_clusters=n_clusters,
        code=fingerprint("umap_features.py"),
    log:
        f"{LOGS}/umap_features/{{dataset}}/umap-{{net}}/seed{{seed}}.log",
    conda:
        "../../envs/deepclust.yaml"
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
    wildcard_constraints:
        method=ids_regex(BASELINE_IDS),
    params:
        spec=lambda wildcards: METHODS[wildcards.method],
        n_clusters=n_clusters,
        code=fingerprint("cluster_baseline.py", "deepclust.methods.baselines"),
    log:
        f"{LOGS}/cluster/{{dataset}}/{{method}}/seed{{seed}}.log",
    conda:
        "../../envs/deepclust.yaml"
    script:
        "../scripts/cluster_baseline.py"
