"""The Result tables of studies/vade_paper_settings/README.md, rendered from this study's records."""

from pathlib import Path

import yaml

from deepclust.records import markdown_table, mean_std, provenance

ROOT = Path(__file__).resolve().parents[2]

HERE = "studies/vade_paper_settings/records"
PAPER, SCALED = "paper_settings", "latent_scale_10"
EPOCHS = (0, 1, 10, 100, 300)
STARTS = {  # the start names vade_start.py writes -> the tables' words
    "k-means, 20 starts": "k-means, 20 starts (DEC's start)",
    "k-means from the classes' means": "k-means from the true classes' means",
    "mixture_init fit, n_init 1": "GaussianMixture, 1 fit (`mixture_init: fit`)",
    "mixture_init fit, n_init 10": "GaussianMixture, likeliest of 10 fits (`mixture_init: fit`, `n_init: 10`)",
    "mixture_init kmeans, n_init 10 (the authors' code)": "the authors' start: EM from a 10-start k-means "
                                                          "(`mixture_init: kmeans`, paper.yaml's)",
    "EM from the classes' means": "EM from the true classes' means",
}


def reported_acc() -> float:
    """VaDE's MNIST accuracy as config/paper_results.yaml gives it."""
    papers = yaml.safe_load((ROOT / "config" / "paper_results.yaml").read_text())["papers"]
    return next(row["acc"] for row in papers["VaDE"]["results"] if (row["method"], row["dataset"]) == ("vade", "mnist"))


def sources(records: dict, *names) -> str:
    return "\n".join(provenance(records[name], f"{HERE}/{name}.json") for name in names)


def pct(value) -> str:
    return f"{100 * value:.1f}"


def acc_at(run, epoch):
    return next(row["acc"] for row in run["history"] if row["epoch"] == epoch)


def best(run):
    return max(row["acc"] for row in run["history"][1:])


def paired(records):
    """[(paper run or None, scaled run or None)], matched by the autoencoder they started from."""
    scaled = {run["autoencoder"]["id"]: run for run in records[SCALED]["runs"]}
    pairs = [(run, scaled.pop(run["autoencoder"]["id"], None)) for run in records[PAPER]["runs"]]
    pairs += [(None, run) for run in scaled.values()]
    return sorted(pairs, key=lambda pair: ((pair[0] or pair[1])["seed"], pair[0] is None))


def per_seed(records: dict) -> str:
    """Each seed's start and end at the paper's settings and at latent_scale 10, one row per autoencoder."""
    def cells(run):
        if run is None:
            return ["–", "–"]
        return [f"{pct(run['history'][0]['acc'])} → **{pct(run['acc'])}**", pct(run["nmi"])]

    rows = []
    for paper, scaled in paired(records):
        run = paper or scaled
        gain = f"{100 * (scaled['acc'] - paper['acc']):+.1f}" if paper and scaled else "–"
        which = "the same for both" if paper and scaled else "this run's own"
        rows.append([run["seed"], which, *cells(paper), *cells(scaled), gain])
    header = ["Seed", "Autoencoder", "Paper's settings: ACC (%) start → end", "NMI (%)",
              "`latent_scale: 10`: ACC (%) start → end", "NMI (%)", "Scale 10 − paper's (ACC points)"]
    return markdown_table(header, rows, "---|---|---:|---:|---:|---:|---:") + "\n\n" + sources(records, PAPER, SCALED)


def summary(records: dict) -> str:
    """Mean ± std over the seeds (all five, and the four whose autoencoder has a run at both settings)."""
    both = [(paper, scaled) for paper, scaled in paired(records) if paper and scaled]
    groups = [("Paper's settings", "all", records[PAPER]["runs"]),
              ("`latent_scale: 10`", "all", records[SCALED]["runs"]),
              ("Paper's settings", "paired", [paper for paper, _ in both]),
              ("`latent_scale: 10`", "paired", [scaled for _, scaled in both])]
    rows = []
    for name, which, runs in groups:
        seeds = ", ".join(str(run["seed"]) for run in runs)
        label = f"{seeds} ({'the same autoencoders' if which == 'paired' else 'all'})"
        rows.append([name, label, mean_std([run["history"][0]["acc"] for run in runs], 100, 1),
                     mean_std([run["acc"] for run in runs], 100, 1), mean_std([run["nmi"] for run in runs], 100, 1),
                     mean_std([best(run) for run in runs], 100, 1),
                     mean_std([run["acc"] - run["history"][0]["acc"] for run in runs], 100, 1)])
    rows.append(["VaDE's paper (`config/paper_results.yaml`)", "", "", pct(reported_acc()), "", "", ""])
    header = ["Settings", "Seeds", "ACC at the start", "ACC at the end", "NMI at the end", "Best epoch's ACC",
              "End − start (ACC points)"]
    return (markdown_table(header, rows, "---|---|---:|---:|---:|---:|---:")
            + "\n\nIn percent; ± is the standard deviation over seeds (ddof 0). The best epoch is the one with the "
            "highest ACC, as the authors' code reports it.\n\n" + sources(records, PAPER, SCALED))


def histories(records: dict) -> str:
    """ACC at a few epochs of every whole run, and the lowest point with its epoch."""
    rows = []
    for name, label in ((PAPER, "paper's"), (SCALED, "scale 10")):
        for run in records[name]["runs"]:
            low = min(run["history"], key=lambda row: row["acc"])
            rows.append([f"{run['seed']}, {label}", *(pct(acc_at(run, epoch)) for epoch in EPOCHS),
                         f"{pct(low['acc'])} (epoch {low['epoch']})"])
    header = ["Seed, settings", *(f"epoch {e}" if e else "ACC (%): start" for e in EPOCHS), "Lowest (epoch)"]
    return markdown_table(header, rows) + "\n\n" + sources(records, PAPER, SCALED)


def mixture_start(records: dict) -> str:
    """The starts on seeds 1 and 2's embeddings, fitted in float32 (as VaDE does) and float64."""
    single, double = records["mixture_start"], records["mixture_start_float64"]
    by = {(dtype, run["seed"], start["start"]): start
          for dtype, record in (("32", single), ("64", double)) for run in record["runs"] for start in run["starts"]}
    seeds = [run["seed"] for run in single["runs"]]
    rows = []
    for key, label in STARTS.items():
        row = [label]
        for seed in seeds:
            start = by[("32", seed, key)]
            likelihood = start.get("log_likelihood")
            row += [pct(start["acc"]), pct(by[("64", seed, key)]["acc"]),
                    "–" if likelihood is None else f"{likelihood:.4f}"]
        rows.append(row)
    header = ["Start on the pretrained embedding"]
    for seed in seeds:
        header += [f"seed {seed}: ACC", "ACC (float64)", "log-likelihood"]
    return (markdown_table(header, rows) + "\n\nACC in percent; log-likelihood in nats per image (float32), "
            "for the mixtures.\n\n" + sources(records, "mixture_start", "mixture_start_float64"))


def latent_sweep(records: dict) -> str:
    """Seed 2's first epochs at latent_scale 1, 10 and 100, and the checks that the runs repeat to the digit."""
    sweep = records["latent_scales_1_10_100_3_epochs"]
    rows = [[f"{run['latent_scale']:g}", f"{run['history'][0]['loss']:.1f}",
             *(pct(row["acc"]) for row in run["history"])] for run in sweep["runs"]]
    header = ["`latent_scale`", "-ELBO at the start (nats)", "ACC: start", "epoch 1", "epoch 2", "epoch 3"]
    seed2 = {name: next(run for run in records[name]["runs"] if run["seed"] == 2) for name in (PAPER, SCALED)}
    short = records["latent_scale_10_30_epochs"]["runs"][0]["history"]
    same_start = sweep["runs"][0]["history"] == seed2[PAPER]["history"][:len(sweep["runs"][0]["history"])]
    same_30 = short == seed2[SCALED]["history"][:len(short)]
    checks = (f"The scale-1 run's history {'equals' if same_start else 'differs from'} the first epochs of seed 2's "
              f"workflow run at the paper's settings, and the 30-epoch run at scale 10 "
              f"{'equals' if same_30 else 'differs from'} the first 30 epochs of seed 2's whole run at scale 10 "
              f"(every value of every epoch compared).")
    return (markdown_table(header, rows) + "\n\nACC in percent; -ELBO after the decoder's warm-up. " + checks
            + "\n\n" + sources(records, "latent_scales_1_10_100_3_epochs", "latent_scale_10_30_epochs"))


def stopped_runs(records: dict) -> str:
    """The runs stopped early, beside the whole runs from the same autoencoders' authors' start."""
    def row(label, run, last):
        stop = run["history"][min(last, len(run["history"]) - 1)]
        return [label, *(pct(acc_at(run, epoch)) for epoch in (0, 1, 10)), f"{pct(stop['acc'])} (epoch {stop['epoch']})"]

    fit = records["paper_settings_mixture_fit_partial"]["runs"]
    authors = {run["seed"]: run for run in records[PAPER]["runs"]}
    rows = []
    for run in fit:
        stop = run["stopped_after_epoch"]
        rows.append(row(f"seed {run['seed']}, GaussianMixture's start (stopped)", run, stop))
        rows.append(row(f"seed {run['seed']}, the authors' start (paper_settings)", authors[run["seed"]], stop))
    sigmoid = records["sigmoid_autoencoder_partial"]["runs"][0]
    rows.append(row(f"seed {sigmoid['seed']}, sigmoid-output autoencoder (stopped)", sigmoid,
                    sigmoid["stopped_after_epoch"]))
    header = ["Run", "ACC: start", "epoch 1", "epoch 10", "at the stop (epoch)"]
    return (markdown_table(header, rows) + "\n\nACC in percent; a whole run is shown at the epoch its stopped "
            "partner reached.\n\n" + sources(records, "paper_settings_mixture_fit_partial",
                                               "sigmoid_autoencoder_partial", PAPER))


if __name__ == "__main__":
    from deepclust.records import load

    folder = Path(__file__).resolve().parent / "records"
    loaded = {path.stem: load(path) for path in sorted(folder.glob("*.json"))}
    for function in (per_seed, summary, histories, mixture_start, latent_sweep, stopped_runs):
        print(function(loaded), end="\n\n")
