# One job for all seeds: each new process pays umap's numba compilation (~20 s or more).
rule umap_features:
    input:
        lambda wildcards: expand(
            f"{PRETRAIN}/embedding.npy",
            dataset=wildcards.dataset,
            net=wildcards.net,
            seed=SEEDS,
        ),
    output:
        expand(UMAP_FEATURES, seed=SEEDS, allow_missing=True),
    log:
        f"{LOGS}/umap_features/{{dataset}}/umap-{{net}}.log",
    # keep UMAP and the baselines off the DAG's tail
    priority: 20
    conda:
        "../../envs/deepclust.yaml"
    params:
        settings=sorted_settings(config["umap"]),
        n_clusters=n_clusters,
        seeds=SEEDS,
        code=fingerprint("umap_features.py"),
    script:
        "../scripts/umap_features.py"


# All baselines of a (dataset, seed) run in one job: each fits in well under a second, while
# a job of its own would spend seconds importing scikit-learn.
rule cluster_baselines:
    input:
        data=DATA,
        features=lambda wildcards: [
            features_of(space, wildcards.dataset, wildcards.seed)
            for space in baseline_spaces()
        ],
    output:
        expand(
            f"{RUN}/{{file}}",
            method=BASELINE_IDS,
            file=["labels.npy", "metrics.json", "run.json"],
            allow_missing=True,
        ),
    log:
        f"{LOGS}/cluster/{{dataset}}/baselines-seed{{seed}}.log",
    # keep UMAP and the baselines off the DAG's tail
    priority: 10
    conda:
        "../../envs/deepclust.yaml"
    params:
        specs=sorted_settings({method: METHODS[method] for method in BASELINE_IDS}),
        spaces=baseline_spaces(),
        run_dirs=lambda wildcards: {
            method: RUN.format(
                dataset=wildcards.dataset, method=method, seed=wildcards.seed
            )
            for method in BASELINE_IDS
        },
        n_clusters=n_clusters,
        code=fingerprint("cluster_baselines.py", "deepclust.methods.baselines"),
    script:
        "../scripts/cluster_baselines.py"
