# UMAP: one job per dataset draws every space: each new process pays umap's numba compilation.
# One rule per dataset, because a rule's outputs (here: its spaces' figures) cannot depend on
# a wildcard.
if "umap" in PROJECTIONS:
    for figure_dataset in DATASETS:

        rule:
            name:
                rule_name("figure_embeddings", figure_dataset)
            input:
                data=DATA,
                features=lambda wildcards: [
                    embedding_input(wildcards.dataset, space)
                    for space in embedding_spaces(wildcards.dataset)
                ],
                labels=lambda wildcards: run_files(
                    "labels.npy", [wildcards.dataset], seeds=[FIGURE_SEED]
                ),
            output:
                [
                    report(
                        path,
                        caption="../report/embedding.rst",
                        category="Embeddings",
                        subcategory="{dataset}",
                    )
                    for path in expand(
                        f"{FIGURES}/embedding_{{space}}_umap.png",
                        space=embedding_spaces(figure_dataset),
                        allow_missing=True,
                    )
                ],
            log:
                f"{LOGS}/figures/{{dataset}}/embeddings.log",
            wildcard_constraints:
                dataset=re.escape(figure_dataset),
            # the longest figure job: start it as soon as it can, not at the DAG's tail
            priority: 5
            conda:
                "../../envs/deepclust.yaml"
            params:
                spaces=lambda wildcards: embedding_spaces(wildcards.dataset),
                methods=lambda wildcards: {
                    space: methods_drawn_on(wildcards.dataset, space)
                    for space in embedding_spaces(wildcards.dataset)
                },
                all_methods=lambda wildcards: methods_on(wildcards.dataset),
                projection="umap",
                seed=FIGURE_SEED,
                max_points=config["figures"]["max_points"],
                code=fingerprint("figure_embeddings.py"),
            script:
                "../scripts/figure_embeddings.py"


# t-SNE (scikit-learn: no compilation to share): one job per space, so that they run side by
# side and each reruns only with its own space and methods.
rule figure_tsne:
    input:
        data=DATA,
        features=lambda wildcards: [embedding_input(wildcards.dataset, wildcards.space)],
        labels=lambda wildcards: expand(
            f"{RUN}/labels.npy",
            dataset=wildcards.dataset,
            method=methods_drawn_on(wildcards.dataset, wildcards.space),
            seed=FIGURE_SEED,
        ),
    output:
        report(
            f"{FIGURES}/embedding_{{space}}_tsne.png",
            caption="../report/embedding.rst",
            category="Embeddings",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/tsne_{{space}}.log",
    wildcard_constraints:
        dataset=ids_regex(DATASETS),
        space="[^/]+",
    conda:
        "../../envs/deepclust.yaml"
    params:
        spaces=lambda wildcards: [wildcards.space],
        methods=lambda wildcards: {
            wildcards.space: methods_drawn_on(wildcards.dataset, wildcards.space)
        },
        all_methods=lambda wildcards: methods_drawn_on(
            wildcards.dataset, wildcards.space
        ),
        projection="tsne",
        seed=FIGURE_SEED,
        max_points=config["figures"]["max_points"],
        code=fingerprint("figure_embeddings.py"),
    script:
        "../scripts/figure_embeddings.py"


rule figure_training_curves:
    input:
        runs=lambda wildcards: expand(
            f"{RUN}/history.json",
            dataset=wildcards.dataset,
            method=deep_methods_on(wildcards.dataset),
            seed=SEEDS,
        ),
        pretrain=lambda wildcards: expand(
            f"{PRETRAIN}/history.json",
            dataset=wildcards.dataset,
            net=sorted(
                {
                    net_of_method(wildcards.dataset, m)
                    for m in deep_methods_on(wildcards.dataset)
                }
                - {None}
            ),
            seed=FIGURE_SEED,
        ),
    output:
        report(
            f"{FIGURES}/training_curves.png",
            caption="../report/training_curves.rst",
            category="Training",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/training_curves.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        code=fingerprint("figure_training_curves.py"),
    script:
        "../scripts/figure_training_curves.py"


rule figure_confusion:
    input:
        data=DATA,
        labels=lambda wildcards: run_files(
            "labels.npy", [wildcards.dataset], seeds=[FIGURE_SEED]
        ),
    output:
        report(
            f"{FIGURES}/confusion.png",
            caption="../report/confusion.rst",
            category="Confusion matrices",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/confusion.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        methods=lambda wildcards: methods_on(wildcards.dataset),
        code=fingerprint("figure_confusion.py"),
    script:
        "../scripts/figure_confusion.py"


rule figure_centres:
    input:
        data=DATA,
        labels=lambda wildcards: run_files(
            "labels.npy", [wildcards.dataset], seeds=[FIGURE_SEED]
        ),
        spaces=lambda wildcards: [
            clustered_space(wildcards.dataset, m)
            for m in methods_on(wildcards.dataset)
        ],
        models=lambda wildcards: [
            centre_decoder(wildcards.dataset, m)
            for m in methods_on(wildcards.dataset)
            if centre_decoder(wildcards.dataset, m)
        ],
        k=k_input,
    output:
        report(
            f"{FIGURES}/centres.png",
            caption="../report/centres.rst",
            category="Clusters",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/centres.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        methods=lambda wildcards: methods_on(wildcards.dataset),
        decoded=lambda wildcards: [
            m
            for m in methods_on(wildcards.dataset)
            if centre_decoder(wildcards.dataset, m)
        ],
        n_clusters=n_clusters,
        seed=FIGURE_SEED,
        code=fingerprint("figure_centres.py"),
    script:
        "../scripts/figure_centres.py"


rule cluster_terms:
    input:
        download=lambda wildcards: DOWNLOAD.format(
            source=source_name(wildcards.dataset)
        ),
        labels=lambda wildcards: run_files(
            "labels.npy", [wildcards.dataset], seeds=[FIGURE_SEED]
        ),
        k=k_input,
    output:
        report(
            f"{TABLES}/{{dataset}}_cluster_terms.md",
            caption="../report/cluster_terms.rst",
            category="Clusters",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/cluster_terms.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        source=lambda wildcards: source_name(wildcards.dataset),
        settings=lambda wildcards: preparation_settings(wildcards.dataset),
        methods=lambda wildcards: methods_on(wildcards.dataset),
        n_clusters=n_clusters,
        seed=FIGURE_SEED,
        code=lambda wildcards: fingerprint(
            "cluster_terms.py",
            data_registry.SOURCES[source_name(wildcards.dataset)].split(":")[0],
        ),
    script:
        "../scripts/cluster_terms.py"


rule figure_elbow:
    input:
        data=DATA,
        embeddings=lambda wildcards: [
            features_of(net, wildcards.dataset, FIGURE_SEED)
            for net in nets_used(wildcards.dataset)
        ],
    output:
        report(
            f"{FIGURES}/elbow.png",
            caption="../report/elbow.rst",
            category="Choosing k",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/elbow.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        spaces=lambda wildcards: input_spaces(wildcards.dataset),
        k_range=config["figures"]["elbow_k"],
        seed=FIGURE_SEED,
        max_points=config["figures"]["max_points"],
        code=fingerprint("figure_elbow.py"),
    script:
        "../scripts/figure_elbow.py"


rule figure_methods:
    input:
        f"{TABLES}/summary.csv",
    output:
        report(
            f"{FIGURES}/methods.png",
            caption="../report/methods.rst",
            category="Methods compared",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/methods.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        code=fingerprint("figure_methods.py"),
    script:
        "../scripts/figure_methods.py"


rule figure_samples:
    input:
        data=DATA,
        samples=lambda wildcards: expand(
            f"{RUN}/samples.npy",
            dataset=wildcards.dataset,
            method=generative_methods_on(wildcards.dataset),
            seed=FIGURE_SEED,
        ),
    output:
        report(
            f"{FIGURES}/samples.png",
            caption="../report/samples.rst",
            category="Generated samples",
            subcategory="{dataset}",
        ),
    log:
        f"{LOGS}/figures/{{dataset}}/samples.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        methods=lambda wildcards: generative_methods_on(wildcards.dataset),
        code=fingerprint("figure_samples.py"),
    script:
        "../scripts/figure_samples.py"
