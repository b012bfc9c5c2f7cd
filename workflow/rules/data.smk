rule prepare_dataset:
    output:
        DATA,
    params:
        settings=lambda wildcards: config["datasets"][wildcards.dataset],
        code=fingerprint("prepare_dataset.py"),
    log:
        f"{LOGS}/prepare_dataset/{{dataset}}.log",
    conda:
        "../../envs/deepclust.yaml"
    script:
        "../scripts/prepare_dataset.py"
