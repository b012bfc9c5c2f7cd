# One job per seed, so that adding a seed reruns no other seed's UMAP (nor, after it, their
# baselines); each process pays ~11 s of umap import from numba's warm disk cache for that.
rule umap_features:
    input:
        f"{PRETRAIN}/embedding.npy",
        k=k_input,
    output:
        UMAP_FEATURES,
    log:
        f"{LOGS}/umap_features/{{dataset}}/umap-{{net}}/seed{{seed}}.log",
    wildcard_constraints:
        net=ids_regex(NETS),
    # keep UMAP and the baselines off the DAG's tail
    priority: 20
    conda:
        "../../envs/deepclust.yaml"
    params:
        settings=sorted_settings(config["umap"]),
        n_clusters=n_clusters,
        code=fingerprint("umap_features.py"),
    script:
        "../scripts/umap_features.py"


# All baselines of a (dataset, seed) run in one job: each fits in well under a second, while
# a job of its own would spend seconds importing scikit-learn. One rule per dataset, because a
# rule's outputs (here: its baselines' files) cannot depend on a wildcard.
for baseline_dataset in [d for d in DATASETS if baselines_on(d)]:

    rule:
        name:
            rule_name("cluster_baselines", baseline_dataset)
        input:
            data=DATA,
            features=lambda wildcards: [
                features_of(space, wildcards.dataset, wildcards.seed)
                for space in baseline_spaces(wildcards.dataset)
            ],
            k=k_input,
        output:
            expand(
                f"{RUN}/{{file}}",
                method=baselines_on(baseline_dataset),
                file=RUN_FILES,
                allow_missing=True,
            ),
        log:
            f"{LOGS}/cluster/{{dataset}}/baselines-seed{{seed}}.log",
        wildcard_constraints:
            dataset=re.escape(baseline_dataset),
        # keep UMAP and the baselines off the DAG's tail
        priority: 10
        conda:
            "../../envs/deepclust.yaml"
        params:
            specs=lambda wildcards: sorted_settings(
                {m: method_spec(m) for m in baselines_on(wildcards.dataset)}
            ),
            spaces=lambda wildcards: baseline_spaces(wildcards.dataset),
            run_dirs=lambda wildcards: {
                method: RUN.format(
                    dataset=wildcards.dataset, method=method, seed=wildcards.seed
                )
                for method in baselines_on(wildcards.dataset)
            },
            n_clusters=n_clusters,
            code=fingerprint("cluster_baselines.py", "deepclust.methods.baselines"),
        script:
            "../scripts/cluster_baselines.py"


# UMAP at the settings of a grid's `umap.<setting>` keys (N2D's neighbours swept): one space per setting
use rule umap_features as umap_setting_features with:
    output:
        UMAP_SETTING_FEATURES,
    log:
        f"{LOGS}/umap_features/{{dataset}}/umap-{{net}}--{{umap}}/seed{{seed}}.log",
    wildcard_constraints:
        net=ids_regex(NETS),
        umap=ids_regex(UMAP_SETTINGS),
    params:
        settings=lambda wildcards: sorted_settings(
            {**config["umap"], **UMAP_SETTINGS[wildcards.umap]}
        ),
        n_clusters=n_clusters,
        code=fingerprint("umap_features.py"),
