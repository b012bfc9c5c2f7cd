"""The Result tables of studies/jule_paper_settings/README.md, rendered from its records
(``python docs/generate.py`` fills the README's generated blocks)."""

from deepclust.records import markdown_table, mean_std, provenance

STUDY = "studies/jule_paper_settings/records"
VARIANTS = [  # (record, label) in the order the tables list them
    ("mnist_test_all", "`all` (the paper's loss)"),
    ("mnist_test_anchor", "`anchor` (JULE.torch's): method `jule`"),
    ("mnist_test_anchor_outliers", "`anchor` + `outlier_fraction` 0.01 (ours): method `jule-outliers`"),
]
TRACE_AT = (30, 20, 15, 12, 11, 10)


def _source(records: dict, name: str) -> str:
    return provenance(records[name], f"{STUDY}/{name}.json")


def _sources(records: dict, names) -> str:
    return "\n".join(_source(records, name) for name in names)


def _seeds(runs) -> str:
    seeds = [run["seed"] for run in runs]
    return f"{seeds[0]}–{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1 else \
        ", ".join(map(str, seeds))


def _count(n: int) -> str:
    return f"{n:,}"


def mnist_test_variants(records: dict) -> str:
    """Per-seed NMI and ACC of the from-scratch final labels on MNIST-test, per triplet gradient and
    final merge, with mean ± std over seeds (ddof 0) and the time per seed."""
    rows = []
    for name, label in VARIANTS:
        runs = records[name]["runs"]
        nmi, acc = [r["nmi"] for r in runs], [r["acc"] for r in runs]
        seconds = [r["seconds"] for r in runs]
        rows.append([label, _seeds(runs), ", ".join(f"{v:.3f}" for v in nmi), f"**{mean_std(nmi)}**",
                     ", ".join(f"{v:.3f}" for v in acc), mean_std(acc), f"{min(seconds):.0f}–{max(seconds):.0f}"])
    return markdown_table(["triplet gradient, final merges", "seeds", "NMI per seed", "NMI mean ± std",
                           "ACC per seed", "ACC mean ± std", "seconds per seed"], rows,
                          "---|---|---|---:|---|---:|---:") + "\n\n" + _sources(records, [n for n, _ in VARIANTS])


def recurrent_vs_from_scratch(records: dict) -> str:
    """The recurrent process's own last clusters against the final from-scratch re-clustering of
    the same run's features: mean ± std over seeds per MNIST-test variant, and each 70k run."""
    groups = [(label.split(":")[0], "MNIST-test", records[name]["runs"]) for name, label in VARIANTS]
    groups += [(f"method `{run['method']}`", "MNIST (70k)", [run])
               for run in records["mnist_70k"]["runs"]]
    rows = []
    for what, data, runs in groups:
        pm = (lambda values: mean_std(values)) if len(runs) > 1 else (lambda values: f"{values[0]:.3f}")
        higher = sum(run["nmi"] > run["recurrent"]["nmi"] for run in runs)
        rows.append([data, what, _seeds(runs) if len(runs) > 1 else runs[0]["seed"],
                     pm([r["recurrent"]["acc"] for r in runs]), pm([r["recurrent"]["nmi"] for r in runs]),
                     pm([r["acc"] for r in runs]), pm([r["nmi"] for r in runs]), f"{higher} of {len(runs)}"])
    return markdown_table(["data", "variant", "seeds", "recurrent ACC", "recurrent NMI", "from scratch ACC",
                           "from scratch NMI", "runs where from scratch has the higher NMI"], rows,
                          "---|---|---:|---:|---:|---:|---:|---:") + "\n\n" + \
        _sources(records, [n for n, _ in VARIANTS] + ["mnist_70k"])


def mnist_70k(records: dict) -> str:
    """The workflow's runs on all 70,000 images: the periods' cluster counts, the recurrent
    clusters, the final labels and their sizes."""
    rows = []
    for run in records["mnist_70k"]["runs"]:
        periods = " → ".join(_count(row["n_clusters"]) for row in run["history"])
        sizes = sorted(run["sizes"], reverse=True)
        rows.append([f"`{run['method']}`", run["seed"], periods, f"{run['recurrent']['acc']:.3f}",
                     f"{run['recurrent']['nmi']:.3f}", f"{run['acc']:.3f}", f"**{run['nmi']:.3f}**",
                     f"{run['ari']:.3f}", ", ".join(_count(s) for s in sizes), f"{run['seconds']:,.0f}"])
    return markdown_table(["method", "seed", "clusters after each period", "recurrent ACC", "recurrent NMI",
                           "final ACC", "final NMI", "final ARI", "final cluster sizes", "seconds"], rows,
                          "---|---:|---|---:|---:|---:|---:|---:|---|---:") + "\n\n" + \
        _source(records, "mnist_70k")


def _tail(records: dict, name: str) -> str:
    run = records[name]["runs"][0]
    rows = []
    for step in run["trace"]:
        if step["clusters"] in TRACE_AT:
            sizes = step["largest_sizes"][:step["clusters"]]
            rows.append([step["clusters"], f"{step['acc']:.3f}", f"{step['nmi']:.3f}",
                         ", ".join(_count(s) for s in sizes)])
    floor = run["size_floor"]
    rows.append([f"10, `outlier_fraction` 0.01 (under {floor['floor_images']:.0f} images)", f"**{floor['acc']:.3f}**",
                 f"**{floor['nmi']:.3f}**", ", ".join(_count(s) for s in sorted(floor["sizes"], reverse=True))])
    return markdown_table(["clusters", "ACC", "NMI", "cluster sizes (largest 12)"], rows, "---|---:|---:|---") + \
        "\n\n" + _source(records, name)


def tail_pixels_70k(records: dict) -> str:
    """The final agglomeration on all 70,000 images' L2-normalised pixels, traced to 10 clusters."""
    return _tail(records, "tail_pixels_70k")


def tail_features_70k(records: dict) -> str:
    """The same on the trained features of the 70k run with the authors' merges (seed 0)."""
    return _tail(records, "tail_features_70k_seed0")


def tail_features_mnist_test_seed1(records: dict) -> str:
    """The same on MNIST-test seed 1's trained features (the authors' merges: ACC 0.799)."""
    return _tail(records, "tail_features_mnist_test_seed1")


def tail_pixels_mnist_test(records: dict) -> str:
    """The same on MNIST-test's L2-normalised pixels."""
    return _tail(records, "tail_pixels_mnist_test")


TAILS = [("tail_pixels_70k", "pixels, 70k"), ("tail_features_70k_seed0", "trained features, 70k, seed 0"),
         ("tail_pixels_mnist_test", "pixels, MNIST-test"),
         ("tail_features_mnist_test_seed1", "trained features, MNIST-test, seed 1")]


def micro_clusters(records: dict) -> str:
    """The clusters alive near the end of each trace: the digit-sized ones against the small ones
    (under 100 images), each with the range of its best affinity to any neighbour, and the small
    ones' images' digits."""
    rows = []
    for name, label in TAILS:
        run = records[name]["runs"][0]
        key = next(k for k in run if k.startswith("alive_at_"))
        alive = run[key]
        large = [c for c in alive if c["digits"] is None]
        small = [c for c in alive if c["digits"] is not None]
        span = lambda cs: (f"{min(c['best_affinity'] for c in cs):.1e} – {max(c['best_affinity'] for c in cs):.1e}"
                           if cs else "")
        digits = "; ".join("".join(map(str, c["digits"])) for c in small)
        rows.append([label, key.rsplit("_", 1)[1], len(large), span(large), len(small),
                     ", ".join(str(c["size"]) for c in small), digits, span(small)])
    return markdown_table(["features", "at clusters", "clusters ≥ 100 images", "their best affinity",
                           "clusters < 100 images", "their sizes", "their images' digits", "their best affinity"],
                          rows, "---|---:|---:|---:|---:|---|---|---:") + "\n\n" + \
        _sources(records, [n for n, _ in TAILS])


def seed1_clusters(records: dict) -> str:
    """What the authors' final merges make of MNIST-test seed 1: each from-scratch cluster's size
    and its two largest digits' shares."""
    run = records["mnist_test_anchor_seed1_clusters"]["runs"][0]
    rows = []
    for c in sorted(run["clusters"], key=lambda c: -c["size"]):
        shares = ", ".join(f"{d}: {100 * s:.1f} %" for d, s in zip(c["top_classes"], c["top_shares"]) if s > 0)
        rows.append([_count(c["size"]), shares])
    return (f"From-scratch labels: ACC {run['acc']:.3f}, NMI {run['nmi']:.3f}; the recurrent clusters of the same run: "
            f"ACC {run['recurrent']['acc']:.3f}, NMI {run['recurrent']['nmi']:.3f}.\n\n"
            + markdown_table(["cluster size", "largest digits (share of the cluster)"], rows, "---:|---") + "\n\n"
            + _source(records, "mnist_test_anchor_seed1_clusters"))


def agglomeration(records: dict) -> str:
    """JULE's agglomerative pass alone on raw pixels: time and memory."""
    record = records["agglomeration_mnist_test"]
    rows = [[_count(run["samples"]), f"{run['seconds']:.1f}", f"{run['peak_rss_gib']:.2f}", f"{run['acc']:.3f}",
             f"{run['nmi']:.3f}"] for run in record["runs"]]
    return markdown_table(["images", "seconds", "peak RSS (GiB, whole process)", "ACC", "NMI"], rows) + \
        f"\n\n{record['params']['threads']} thread(s). " + _source(records, "agglomeration_mnist_test")
