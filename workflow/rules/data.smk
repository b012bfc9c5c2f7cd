rule prepare_dataset:
    output:
        DATA,
    log:
        f"{LOGS}/prepare_dataset/{{dataset}}.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        settings=lambda wildcards: sorted_settings(
            config["datasets"][wildcards.dataset]
        ),
        code=fingerprint("prepare_dataset.py"),
    script:
        "../scripts/prepare_dataset.py"
