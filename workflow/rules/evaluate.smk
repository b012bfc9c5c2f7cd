rule summary_table:
    input:
        metrics=run_files("metrics.json"),
        runs=run_files("run.json"),
        # n_clusters: auto: the k each dataset's runs were given (n_clusters_selected)
        selected_k=[SELECT_K.format(dataset=d) for d in DATASETS if auto_k(d)],
    output:
        csv=report(
            f"{TABLES}/summary.csv",
            caption="../report/summary.rst",
            category="Tables",
        ),
        markdown=f"{TABLES}/summary.md",
        runs_csv=f"{TABLES}/runs.csv",
    log:
        f"{LOGS}/summary_table.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        code=fingerprint("summary_table.py"),
    script:
        "../scripts/summary_table.py"


# Only with `paper_results` set (config/paper.yaml): our runs beside the papers' numbers.
rule paper_table:
    input:
        runs=f"{TABLES}/runs.csv",
        reported=config["paper_results"] or [],
    output:
        csv=f"{TABLES}/paper_table.csv",
        markdown=f"{TABLES}/paper_table.md",
        latex=f"{TABLES}/paper_table.tex",
    log:
        f"{LOGS}/paper_table.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        sources={dataset: source_name(dataset) for dataset in DATASETS},
        paper_methods=paper_methods(),
        code=fingerprint("paper_table.py"),
    script:
        "../scripts/paper_table.py"


# Which method is better, where and by how much: ranks, Friedman / Nemenyi across datasets,
# Wilcoxon-Holm against a reference and against the best (deepclust.leaderboard).
rule leaderboard:
    input:
        # with sweeps, each swept method at its label-free choice (selection.criterion)
        LABEL_FREE_RUNS if sweeps_run() else f"{TABLES}/runs.csv",
    output:
        markdown=report(
            f"{TABLES}/leaderboard.md",
            caption="../report/leaderboard.rst",
            category="Tables",
        ),
        csv=f"{TABLES}/leaderboard.csv",
        latex=f"{TABLES}/leaderboard.tex",
        figure=report(
            f"{RESULTS}/figures/critical_difference.png",
            caption="../report/critical_difference.rst",
            category="Methods compared",
        ),
    log:
        f"{LOGS}/leaderboard.log",
    conda:
        "../../envs/deepclust.yaml"
    params:
        reference=leaderboard_reference(),
        code=fingerprint("leaderboard.py"),
    script:
        "../scripts/leaderboard.py"
