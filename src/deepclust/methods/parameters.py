"""What each deep method's parameters may be: the scikit-learn ``_parameter_constraints`` of every
estimator in deepclust.methods, declared here so that the workflow checks a config's ``params``
with exactly the constraints ``fit`` checks, before any job, without importing torch.

Each estimator's class takes its dict as ``_parameter_constraints`` (one key per ``__init__``
parameter) and ``fit`` calls ``self._validate_params()``, which raises scikit-learn's
``InvalidParameterError`` naming the parameter, the valid values and the value given. Checks that
depend on the data (rows, features, value range) or on several parameters stay in the methods.
Nothing here can change a result: a value is either refused or used as it is, so this module is
left out of the code fingerprints.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_parameter_constraints


class Sequence(Interval):
    """A list or tuple of ``length`` numbers (None: one or more), each in an interval. An Interval
    subclass because scikit-learn's validation accepts only its own kinds of constraint."""

    def __init__(self, type, left, right, *, closed, length=None):
        super().__init__(type, left, right, closed=closed)
        self.length = length

    def is_satisfied_by(self, val):
        if not isinstance(val, (list, tuple)) or not val or (self.length and len(val) != self.length):
            return False
        return all(Interval.is_satisfied_by(self, v) for v in val)

    def __str__(self):
        count = self.length or "one or more"
        each = super().__str__().replace("an int", "ints").replace("a float", "floats")
        return f"a list or tuple of {count} {each}"


def at_least(minimum):
    return Interval(Integral, minimum, None, closed="left")


POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
FRACTION = Interval(Real, 0, 1, closed="both")
SEED = Interval(Integral, 0, 2**32 - 1, closed="both")  # numpy's and scikit-learn's seed range
IMAGE_SHAPE = Sequence(Integral, 1, None, closed="left", length=3)

# DeepClusterer: what every deep method takes (see its docstring)
DEEP_CLUSTERER = {
    "n_clusters": [at_least(1)],
    "autoencoder": [HasMethods(["encoder", "decoder"]), None],
    "batch_size": [at_least(1)],
    "n_init": [at_least(1)],
    "pretrain_epochs": [at_least(0)],
    "hidden_dims": [Sequence(Integral, 1, None, closed="left")],
    "embedding_dim": [at_least(1)],
    "device": [str],
    "random_state": [SEED, None],
    "verbose": ["verbose"],
}
# set by the workflow itself, never by a config's params
WORKFLOW_SET = {"n_clusters", "autoencoder", "device", "random_state", "verbose"}
# what describes the autoencoder a method pretrains when it is given none; in the workflow a
# method starts from its net, so these belong under nets (and image_shape comes from the dataset)
PRETRAINING = {"pretrain_epochs", "hidden_dims", "embedding_dim", "filters", "image_shape"}

DEC = {
    **DEEP_CLUSTERER,
    "alpha": [POSITIVE],
    "optimizer": [StrOptions({"sgd", "adam"})],
    "lr": [POSITIVE],
    "momentum": [FRACTION],
    "update_interval": [at_least(1)],
    "tol": [FRACTION],
    "max_epochs": [at_least(0)],
}
IDEC = {**DEC, "gamma": [NON_NEGATIVE]}
DCEC = {
    **{name: constraint for name, constraint in IDEC.items() if name != "hidden_dims"},
    "image_shape": [IMAGE_SHAPE, None],
    "filters": [Sequence(Integral, 1, None, closed="left", length=3)],
}
DCN = {
    **DEEP_CLUSTERER,
    "lambda_": [NON_NEGATIVE],
    "lr": [POSITIVE],
    "max_epochs": [at_least(0)],
    "initial_count": [POSITIVE],
}
VADE = {
    **DEEP_CLUSTERER,
    "likelihood": [StrOptions({"bernoulli", "gaussian"})],
    "lr": [POSITIVE],
    "lr_decay": [Interval(Real, 0, 1, closed="right")],
    "decay_every": [at_least(1)],
    "min_lr": [NON_NEGATIVE],
    "max_epochs": [at_least(0)],
    "mixture_init": [StrOptions({"fit", "kmeans"})],
    "decoder_warmup_epochs": [at_least(0)],
    "latent_scale": [POSITIVE],
}
METRIC_LEARNING = {
    **DEEP_CLUSTERER,
    "loss": [StrOptions({"batch_hard", "semi_hard", "contrastive", "angular", "npair"})],
    "margin": [POSITIVE],
    "angle": [Interval(Real, 0, 90, closed="neither")],
    "norm_weight": [NON_NEGATIVE],
    "normalize": ["boolean"],
    "rounds": [at_least(1)],
    "epochs_per_round": [at_least(1)],
    "samples_per_class": [at_least(2)],
    "lr": [POSITIVE],
    "reconstruction_weight": [NON_NEGATIVE],
    "tol": [FRACTION],
}
# InfoGAN and JULE learn their own networks from scratch: no pretraining parameters, and
# autoencoder is accepted for the common signature and ignored
FROM_SCRATCH = {
    **{name: DEEP_CLUSTERER[name] for name in ("autoencoder", "device", "random_state", "verbose")},
    "n_clusters": [at_least(2)],
    "batch_size": [at_least(2)],  # batch norm needs two samples
    "image_shape": [IMAGE_SHAPE, None],
}
INFOGAN = {
    **FROM_SCRATCH,
    "noise_dim": [at_least(0)],
    "n_continuous": [at_least(0)],
    "lambda_categorical": [NON_NEGATIVE],
    "lambda_continuous": [NON_NEGATIVE],
    "d_lr": [POSITIVE],
    "g_lr": [POSITIVE],
    "betas": [Sequence(Real, 0, 1, closed="left", length=2)],
    "max_epochs": [at_least(1)],
    "hidden_dim": [at_least(1)],
    "q_hidden_dim": [at_least(1)],
    "filters": [at_least(1)],
}
JULE = {
    **FROM_SCRATCH,
    "unrolling_rate": [Interval(Real, 0, 1, closed="right")],
    "epochs_per_period": [at_least(0)],
    "n_neighbors": [at_least(1)],
    "n_cluster_neighbors": [at_least(2)],
    "margin": [POSITIVE],
    "gamma": [POSITIVE],
    "lr": [POSITIVE],
    "momentum": [FRACTION],
    "weight_decay": [NON_NEGATIVE],
    "lr_decay": [NON_NEGATIVE],
    "lr_power": [NON_NEGATIVE],
    "filters": [at_least(1)],
    "feature_dim": [at_least(1)],
    "hidden_dim": [at_least(1)],
    "final_clustering": [StrOptions({"from_scratch", "recurrent"})],
    "outlier_fraction": [Interval(Real, 0, 1, closed="left")],
    "triplet_gradient": [StrOptions({"all", "anchor"})],
}

# registry name -> constraints (deepclust.methods.DEEP_METHODS names the classes)
CONSTRAINTS = {"dec": DEC, "idec": IDEC, "dcn": DCN, "dcec": DCEC, "metric_learning": METRIC_LEARNING,
               "vade": VADE, "infogan": INFOGAN, "jule": JULE}


def check(constraints: dict, params: dict, settable, estimator: str) -> None:
    """Refuse ``params`` naming anything but ``settable`` (listed in the message), then validate
    each value as ``fit`` does (scikit-learn's InvalidParameterError)."""
    unknown = sorted(set(params) - set(settable))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {estimator}; valid: {', '.join(settable)}")
    validate_parameter_constraints(constraints, params, caller_name=estimator)
