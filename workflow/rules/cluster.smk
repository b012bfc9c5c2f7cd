rule cluster_deep:
    input:
        data=DATA,
        pretrained=pretrained,
        tracking=tracking_input(),
        k=k_input,
    output:
        labels=f"{RUN}/labels.npy",
        metrics=f"{RUN}/metrics.json",
        history=f"{RUN}/history.json",
        embedding=f"{RUN}/embedding.npy",
        model=f"{RUN}/model.pt",
        run=f"{RUN}/run.json",
    log:
        f"{LOGS}/cluster/{{dataset}}/{{method}}/seed{{seed}}.log",
    wildcard_constraints:
        method=ids_regex([m for m in DEEP_METHOD_IDS if m not in GENERATIVE_IDS]),
    # the figures' seed first: its embedding maps then draw while the other seeds train
    priority: figure_seed_first
    conda:
        "../../envs/deepclust.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=uses_gpu(),
    params:
        spec=lambda wildcards: method_spec(wildcards.method),
        n_clusters=n_clusters,
        device=config["device"],
        precision=config["precision"],
        deterministic=config["deterministic"],
        checkpoint=checkpoint_file(RUN),
        code=lambda wildcards: fingerprint(
            "cluster_deep.py",
            method_registry.module_name(METHODS[wildcards.method]["algorithm"]),
        ),
    script:
        "../scripts/cluster_deep.py"


# generative methods (VaDE, InfoGAN) also draw samples per cluster for figure_samples
use rule cluster_deep as cluster_generative with:
    output:
        labels=f"{RUN}/labels.npy",
        metrics=f"{RUN}/metrics.json",
        history=f"{RUN}/history.json",
        embedding=f"{RUN}/embedding.npy",
        model=f"{RUN}/model.pt",
        run=f"{RUN}/run.json",
        samples=f"{RUN}/samples.npy",
    wildcard_constraints:
        method=ids_regex(GENERATIVE_IDS),


# methods of the user's own ("package.module:Class"); those with a transform keep its embedding
rule cluster_plugin:
    input:
        data=DATA,
        features=plugin_features,
        pretrained=pretrained,
        tracking=tracking_input(),
        k=k_input,
    output:
        labels=f"{RUN}/labels.npy",
        metrics=f"{RUN}/metrics.json",
        run=f"{RUN}/run.json",
        embedding=f"{RUN}/embedding.npy",
    log:
        f"{LOGS}/cluster/{{dataset}}/{{method}}/seed{{seed}}.log",
    wildcard_constraints:
        method=ids_regex([m for m in PLUGIN_IDS if has_embedding(m)]),
    priority: figure_seed_first
    conda:
        "../../envs/deepclust.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=plugin_gpu,
    params:
        spec=lambda wildcards: method_spec(wildcards.method),
        n_clusters=n_clusters,
        device=config["device"],
        code=plugin_code,
    script:
        "../scripts/cluster_plugin.py"


use rule cluster_plugin as cluster_plugin_labels with:
    output:
        labels=f"{RUN}/labels.npy",
        metrics=f"{RUN}/metrics.json",
        run=f"{RUN}/run.json",
    wildcard_constraints:
        method=ids_regex([m for m in PLUGIN_IDS if not has_embedding(m)]),
