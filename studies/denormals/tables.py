"""The Result table of studies/denormals/README.md, from its records."""

from deepclust.records import markdown_table, provenance

RECORD = "denormal_flush_adam"


def epochs(records: dict) -> str:
    """Per epoch: the median over repeats of its seconds with denormals kept and flushed, and its loss."""
    record = records[RECORD]
    summary = record["summary"]
    fp32, tf32 = summary["fp32"]["median_epoch_seconds"], summary["tf32"]["median_epoch_seconds"]
    losses = record["runs"][0]["losses"]
    rows = [[e + 1, f"{a:.1f}", f"{b:.1f}", f"{a / b:.2f}×", f"{loss:.6f}"]
            for e, (a, b, loss) in enumerate(zip(fp32, tf32, losses))]
    rows.append(["3 on (median)", f"**{summary['fp32']['median_of_epochs_3_on']:.1f}**",
                 f"**{summary['tf32']['median_of_epochs_3_on']:.1f}**", f"**{summary['speedup_epochs_3_on']:.2f}×**", ""])
    same = "identical in every run" if summary.get("losses_identical") else "NOT identical across runs"
    params = record["params"]
    return (markdown_table(["epoch", "seconds, denormals kept (`fp32`)", "seconds, flushed (`tf32`)", "speed-up",
                            "loss"], rows)
            + f"\n\nMedian over {params['repeats']} repeats of each precision, {params['threads']} thread; the "
            f"losses are {same} (both precisions, all repeats). "
            + provenance(record, f"studies/denormals/records/{RECORD}.json"))
