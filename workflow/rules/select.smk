# Choosing without labels (deepclust.selection): k for datasets with n_clusters: auto, and a
# setting of each swept method.


# A checkpoint: the jobs that take the dataset's k read it from its output once it ran (their
# n_clusters param), so the DAG below it is settled only then.
checkpoint select_k:
    input:
        space=lambda wildcards: features_of(
            selection_space(wildcards.dataset), wildcards.dataset, FIGURE_SEED
        ),
    output:
        choice=SELECT_K,
        curve=SELECT_K_CURVE,
        figure=report(
            f"{FIGURES}/select_k.png",
            caption="../report/select_k.rst",
            category="Choosing k",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/select_k/{{dataset}}.log",
    wildcard_constraints:
        dataset=ids_regex([d for d in DATASETS if auto_k(d)]),
    conda:
        "../../envs/deepclust.yaml"
    params:
        k_range=lambda wildcards: config["datasets"][wildcards.dataset]["k_range"],
        space=lambda wildcards: selection_space(wildcards.dataset),
        seed=FIGURE_SEED,
        code=fingerprint("select_k.py"),
    script:
        "../scripts/select_k.py"


# The label-free criteria of every run of a swept method on a dataset, on the common space of
# each run's seed; one job per (dataset, method), so that adding a value reruns only its method's.
rule selection_scores:
    input:
        labels=lambda wildcards: setting_runs(wildcards, "labels.npy"),
        metrics=lambda wildcards: setting_runs(wildcards, "metrics.json"),
        spaces=lambda wildcards: [
            features_of(selection_space(wildcards.dataset), wildcards.dataset, seed)
            for seed in SEEDS
        ],
    output:
        SELECTION_SCORES,
    log:
        f"{LOGS}/selection/{{dataset}}/{{method}}.log",
    wildcard_constraints:
        dataset=ids_regex(DATASETS),
        method=ids_regex(SWEEP.swept),
    conda:
        "../../envs/deepclust.yaml"
    params:
        settings=lambda wildcards: SWEEP.settings_of(wildcards.method),
        seeds=SEEDS,
        code=fingerprint("selection_scores.py"),
    script:
        "../scripts/selection_scores.py"


rule sensitivity:
    input:
        scores=selection_scores_files(),
        runs=f"{TABLES}/runs.csv",
    output:
        csv=report(
            f"{TABLES}/sensitivity.csv",
            caption="../report/sensitivity.rst",
            category="Tables",
        ),
        markdown=f"{TABLES}/sensitivity.md",
        selection_csv=report(
            f"{TABLES}/selection.csv",
            caption="../report/selection.rst",
            category="Tables",
        ),
        selection_markdown=f"{TABLES}/selection.md",
        label_free=LABEL_FREE_RUNS,
    log:
        f"{LOGS}/sensitivity.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        values=setting_values(SWEEP.swept),
        method_of={name: method for name, (method, _) in SWEEP.settings.items()},
        paper=SWEEP.paper,
        criterion=config["selection"]["criterion"],
        code=fingerprint("sensitivity.py"),
    script:
        "../scripts/sensitivity.py"


rule figure_sensitivity:
    input:
        SELECTION_SCORES,
    output:
        report(
            f"{FIGURES}/sensitivity_{{method}}.png",
            caption="../report/sensitivity_figure.rst",
            category="Sensitivity",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/sensitivity_{{method}}.log",
    wildcard_constraints:
        dataset=ids_regex(DATASETS),
        method=ids_regex(SWEEP.swept),
    conda:
        "../../envs/deepclust.yaml"
    params:
        values=lambda wildcards: setting_values([wildcards.method]),
        paper=lambda wildcards: SWEEP.paper[wildcards.method],
        criterion=config["selection"]["criterion"],
        code=fingerprint("figure_sensitivity.py"),
    script:
        "../scripts/figure_sensitivity.py"
