"""VaDE at config/paper.yaml's settings from the workflow's pretrained autoencoders, per seed.

Each run keeps its per-epoch history (ACC, NMI, -ELBO) and its final clusters' composition; the
runs are written as one record. The inputs are the workflow's (the data and each seed's
SGD-pretrained autoencoder); then, from the repository root:

    snakemake results/paper/data/mnist.npz results/paper/pretrain/mnist/ae/seed{0,1,2,3,4}/model.pt --cores 2 \\
        --configfile config/paper.yaml studies/vade_paper_settings/cpu.yaml
    python studies/vade_paper_settings/vade_paper_settings.py --seeds 0 1 2 3 4
    python studies/vade_paper_settings/vade_paper_settings.py --seeds 0 1 2 3 4 --latent-scale 10

``--latent-scale C`` sets VaDE's ``latent_scale`` (ours, not the paper's; paper.yaml's 1 otherwise):
the same autoencoder and start with a C times wider latent space for Adam's fixed-size steps (the
method ``vade-latent10`` of config/vade_latent_scale.yaml for C = 10). ``--mixture-init fit`` starts
the mixture from GaussianMixture's own fit instead of the authors' EM from k-means' centres, and
``--epochs`` cuts the 300 epochs (the learning rate depends on the epoch only, so a cut run is the
first epochs of a whole one). ``--checkpoint`` (a path with ``{seed}``, ``{scale}``) saves every 10
epochs; after a stop (SIGTERM saves at the end of the running epoch) the same command resumes. The
record goes to studies/vade_paper_settings/records/ unless ``--out`` says otherwise.
"""

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import adjusted_rand_score

from deepclust import engine, io, records
from deepclust.composition import composition
from deepclust.methods.vade import VaDE
from deepclust.nn import networks

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def default_out(args, scales) -> Path:
    if len(scales) > 1:
        name = "latent_scales_" + "_".join(f"{scale:g}" for scale in scales)
    else:
        name = "paper_settings" if scales[0] == 1 else f"latent_scale_{scales[0]:g}"
    if args.mixture_init is not None:
        name += f"_mixture_{args.mixture_init}"
    if args.epochs is not None:
        name += f"_{args.epochs}_epochs"
    return HERE / "records" / f"{name}.json"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed (VaDE's random_state)")
    parser.add_argument("--data", default="results/paper/data/mnist.npz", help="a prepared dataset")
    parser.add_argument("--autoencoder", default="results/paper/pretrain/mnist/ae/seed{seed}/model.pt",
                        help="each seed's pretrained model.pt ({seed} is replaced)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, help="override paper.yaml's 300")
    parser.add_argument("--latent-scale", type=float, nargs="+",
                        help="override paper.yaml's latent_scale (see above); several: a run per scale and seed")
    parser.add_argument("--mixture-init", choices=["fit", "kmeans"], help="override paper.yaml's mixture_init")
    parser.add_argument("--checkpoint", help="resume from / save to this file every 10 epochs ({seed} and {scale} "
                                             "are replaced)")
    parser.add_argument("--out", type=Path, help="the record (default: records/<settings>.json beside this script)")
    args = parser.parse_args()

    engine.set_threads(args.threads)
    engine.set_precision("tf32")  # the workflow's default, before any tensor work (denormals flushed on the CPU)
    params = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["methods"]["vade"]["params"]
    whole = args.epochs is None and args.mixture_init is None  # the settings of a config's method
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    if args.mixture_init is not None:
        params["mixture_init"] = args.mixture_init
    scales = args.latent_scale or [params.get("latent_scale", 1)]
    data = Path(args.data)
    X, y, _ = io.load_dataset(ROOT / data)

    runs, methods = [], {}
    for scale, seed in [(scale, seed) for scale in scales for seed in args.seeds]:
        params["latent_scale"] = scale
        method = methods[scale] = "vade" if scale == 1 else f"vade-latent{scale:g}"
        ae_path = args.autoencoder.format(seed=seed)
        model = VaDE(len(np.unique(y)), autoencoder=networks.load(ROOT / ae_path, args.device), **params,
                     device=args.device, random_state=seed, verbose=True)
        path = args.checkpoint.format(seed=seed, scale=f"{scale:g}") if args.checkpoint else None
        checkpoint = engine.Checkpoint(path,
                                       key=json.dumps(params, sort_keys=True), every=10)
        start = time.perf_counter()
        model.fit(X, y, checkpoint=checkpoint)
        last = model.history_[-1]
        runs.append({"dataset": data.stem, "method": method, "seed": seed, "latent_scale": scale,
                     "acc": last["acc"], "nmi": last["nmi"],
                     "ari": float(adjusted_rand_score(y, model.labels_)), "autoencoder": {"path": ae_path},
                     "threads": args.threads, "device": args.device,
                     "seconds_this_process": time.perf_counter() - start,
                     "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                     "composition": composition(y, model.labels_), "history": model.history_})
        print(json.dumps({k: v for k, v in runs[-1].items() if k not in ("history", "composition")}, default=float))

    scales_text = ", ".join(f"{scale:g}" for scale in scales)
    what = (f"VaDE at config/paper.yaml's settings{'' if scales == [1] else f' with latent_scale {scales_text}'}"
            f"{'' if args.mixture_init is None else f', mixture_init {args.mixture_init}'}"
            f"{'' if args.epochs is None else f', {args.epochs} epochs'} on {data.stem}, from each seed's "
            f"pretrained autoencoder, seeds {', '.join(map(str, args.seeds))}; per-epoch history")
    extra = {"paper_comparison": True} if whole else {}
    if whole and set(methods.values()) != {"vade"}:
        extra["paper_methods"] = {method: "vade" for method in methods.values() if method != "vade"}
    out = args.out or default_out(args, scales)
    del params["latent_scale"]  # each run's own
    records.write(out, what=what, params={**params, "samples": len(X), "threads": args.threads},
                  runs=json.loads(json.dumps(runs, default=float)), root=ROOT, device=args.device, **extra)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
