from snakemake.utils import min_version

min_version("9.0")


# A --configfile replaces the default instead of being merged into it (Snakemake merges
# recursively, which would keep every default method in a user's config).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/cluster.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/report.smk"


# Cheap rules run where snakemake runs, not as cluster jobs.
localrules:
    all,
    init_tracking,
    summary_table,
    paper_table,
    leaderboard,
    sensitivity,
    figure_methods,
    figure_sensitivity,
    sync_tracking,


rule all:
    default_target: True
    input:
        final_outputs(),
