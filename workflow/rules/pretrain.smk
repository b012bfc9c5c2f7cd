rule pretrain_autoencoder:
    input:
        data=DATA,
        tracking=tracking_input(),
    output:
        model=f"{PRETRAIN}/model.pt",
        history=f"{PRETRAIN}/history.json",
        embedding=f"{PRETRAIN}/embedding.npy",
        run=f"{PRETRAIN}/run.json",
    log:
        f"{LOGS}/pretrain/{{dataset}}/{{net}}/seed{{seed}}.log",
    # everything deep waits on it: start all seeds first
    priority: 30
    conda:
        "../../envs/deepclust.yaml"
    threads: config["threads"]["train"]
    resources:
        gpu=uses_gpu(),
    params:
        settings=lambda wildcards: sorted_settings(NETS[wildcards.net]),
        device=config["device"],
        precision=config["precision"],
        deterministic=config["deterministic"],
        cuda_graphs=config["cuda_graphs"],
        checkpoint=checkpoint_file(PRETRAIN),
        code=fingerprint("pretrain.py"),
    script:
        "../scripts/pretrain.py"
