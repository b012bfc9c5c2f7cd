rule init_tracking:
    output:
        TRACKING,
    log:
        f"{LOGS}/init_tracking.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        uri=TRACKING_URI,
        experiment=config["tracking"]["experiment"],
        artifact_root=MLFLOW_ARTIFACTS,
        code=fingerprint("init_tracking.py", "deepclust.tracking"),
    script:
        "../scripts/init_tracking.py"


rule sync_tracking:
    input:
        tracking=TRACKING,
        runs=run_files("run.json"),
        pretrained=pretrain_runs(),
        # last, so that a store that is down fails the sync alone, after the tables and figures
        # (ancient: remaking them does not rerun the sync; not the optional paper table, whose
        # addition must rerun nothing else)
        after=ancient([f"{TABLES}/summary.csv", *figure_files()]),
    output:
        SYNCED,
    log:
        f"{LOGS}/sync_tracking.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        code=fingerprint("sync_tracking.py", "deepclust.tracking"),
    script:
        "../scripts/sync_tracking.py"
