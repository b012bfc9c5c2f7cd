rule download_dataset:
    output:
        DOWNLOAD,
    log:
        f"{LOGS}/download/{{source}}.log",
    wildcard_constraints:
        source=ids_regex(downloaded_sources()),
    conda:
        "../../envs/deepclust.yaml"
    # data.mirror and data.retries are read from the config in the script, not params: where a
    # verified file comes from never changes it, so moving the mirror must not rerun anything
    params:
        code=fingerprint("download.py"),
    script:
        "../scripts/download.py"


# pretrained weights of network features (ResNet-50, VGG-16): fetched apart from the GPU job that uses
# them, so that a compute node without network needs only the files already under resources/
rule download_model:
    output:
        MODEL_DOWNLOAD,
    log:
        f"{LOGS}/download/model-{{model}}.log",
    wildcard_constraints:
        model=ids_regex(list(data_registry.MODELS)),
    conda:
        "../../envs/deepclust.yaml"
    params:
        code=fingerprint("download.py"),
    script:
        "../scripts/download.py"


rule prepare_dataset:
    input:
        dataset_input,
    output:
        DATA,
    log:
        f"{LOGS}/prepare_dataset/{{dataset}}.log",
    conda:
        "../../envs/deepclust.yaml"
    # network features (ResNet-50, VGG-16, MiniLM) run on the training device
    threads: preparation_threads
    resources:
        gpu=lambda wildcards: (
            uses_gpu() if uses_network_features(wildcards.dataset) else 0
        ),
    params:
        source=lambda wildcards: source_name(wildcards.dataset),
        settings=lambda wildcards: preparation_settings(wildcards.dataset),
        # only network features depend on the device (float rounding)
        device=lambda wildcards: (
            config["device"] if uses_network_features(wildcards.dataset) else "any"
        ),
        models=MODELS,
        code=lambda wildcards: fingerprint(
            "prepare_dataset.py",
            data_registry.SOURCES[source_name(wildcards.dataset)].split(":")[0],
        ),
    script:
        "../scripts/prepare_dataset.py"
