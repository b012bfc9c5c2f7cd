"""DEC, IDEC and DCN as scikit-learn estimators, on three easy blobs with a tiny pretrained autoencoder."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from deepclust import engine
from deepclust.methods.dcn import DCN
from deepclust.methods.dec import DEC
from deepclust.methods.idec import IDEC
from deepclust.metrics import cluster_accuracy

from .helpers import EMBEDDING, N_CLUSTERS

SETTINGS = {
    DEC: dict(update_interval=5, max_epochs=20, batch_size=32),
    IDEC: dict(update_interval=5, max_epochs=20, batch_size=32),
    DCN: dict(max_epochs=5, batch_size=32, lr=1e-3),
}
CLASSES = list(SETTINGS)


def make(cls, autoencoder, **overrides):
    params = dict(autoencoder=autoencoder, n_init=3, device="cpu", random_state=0, **SETTINGS[cls])
    params.update(overrides)
    return cls(N_CLUSTERS, **params)


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module", params=CLASSES, ids=lambda c: c.__name__)
def fitted(request, blobs, pretrained):
    X, y = blobs
    autoencoder = pretrained[0]
    before = snapshot(autoencoder)
    estimator = make(request.param, autoencoder)
    returned = estimator.fit(X, y)
    return {"estimator": estimator, "returned": returned, "before": before, "autoencoder": autoencoder}


def test_fit_returns_self(fitted):
    assert fitted["returned"] is fitted["estimator"]


def test_labels_one_per_sample_in_range(fitted, blobs):
    labels = fitted["estimator"].labels_
    assert labels.shape == (len(blobs[0]),)
    assert set(np.unique(labels)) <= set(range(N_CLUSTERS))


def test_high_accuracy_on_easy_blobs(fitted, blobs):
    assert cluster_accuracy(blobs[1], fitted["estimator"].labels_) >= 0.9


def test_predict_agrees_with_labels(fitted, blobs):
    # for DEC/IDEC labels_ is argmax q, predict is the nearest centre: the same for a Student's t kernel
    estimator = fitted["estimator"]
    assert np.mean(estimator.predict(blobs[0]) == estimator.labels_) >= 0.99


def test_transform_shape_and_centres(fitted, blobs):
    estimator = fitted["estimator"]
    z = estimator.transform(blobs[0])
    assert z.shape == (len(blobs[0]), EMBEDDING)
    assert estimator.cluster_centers_.shape == (N_CLUSTERS, EMBEDDING)
    # predict is the nearest centre of the embedding
    nearest = np.linalg.norm(z[:, None] - estimator.cluster_centers_[None], axis=2).argmin(1)
    np.testing.assert_array_equal(estimator.predict(blobs[0]), nearest)


def test_history_rows_have_epoch_loss_and_label_metrics(fitted, blobs):
    estimator = fitted["estimator"]
    history = estimator.history_
    assert len(history) >= 2
    for row in history:
        assert {"epoch", "loss", "acc", "nmi", "label_change"} <= set(row)
        assert 0.0 <= row["acc"] <= 1.0 and 0.0 <= row["nmi"] <= 1.0 + 1e-9
        assert 0.0 <= row["label_change"] <= 1.0
    # the last row's ACC is that of the labels at that point; on easy blobs it is high
    assert history[-1]["acc"] >= 0.9
    assert all(np.isfinite(row["loss"]) for row in history[1:])


def test_passed_autoencoder_is_not_modified(fitted):
    autoencoder, before = fitted["autoencoder"], fitted["before"]
    after = autoencoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert fitted["estimator"].autoencoder_ is not autoencoder
    assert fitted["estimator"].autoencoder is autoencoder
    # and the fine-tuned copy did change
    tuned = fitted["estimator"].autoencoder_.state_dict()
    assert any(not torch.equal(before[k], tuned[k]) for k in before)


def test_fit_without_y_has_no_label_metrics(blobs, pretrained):
    estimator = make(DCN, pretrained[0], max_epochs=2).fit(blobs[0])
    assert len(estimator.history_) == 2
    assert all("acc" not in row and "nmi" not in row for row in estimator.history_)
    assert [row["epoch"] for row in estimator.history_] == [1, 2]


def test_same_random_state_gives_identical_results(blobs, pretrained, fitted):
    again = make(type(fitted["estimator"]), pretrained[0]).fit(*blobs)
    np.testing.assert_array_equal(again.labels_, fitted["estimator"].labels_)
    np.testing.assert_array_equal(again.cluster_centers_, fitted["estimator"].cluster_centers_)
    assert [r["loss"] for r in again.history_[1:]] == [r["loss"] for r in fitted["estimator"].history_[1:]]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_clone_and_get_params_round_trip(cls, pretrained):
    estimator = make(cls, pretrained[0], random_state=7)
    params = estimator.get_params()
    assert params["n_clusters"] == N_CLUSTERS and params["random_state"] == 7
    assert params["autoencoder"] is pretrained[0]
    rebuilt = cls(**params)
    assert rebuilt.get_params() == params
    cloned = clone(estimator)
    assert type(cloned) is cls
    cloned_params = cloned.get_params()
    assert {k: v for k, v in cloned_params.items() if k != "autoencoder"} == \
        {k: v for k, v in params.items() if k != "autoencoder"}
    assert isinstance(cloned_params["autoencoder"], type(pretrained[0]))
    assert not hasattr(cloned, "labels_")
    changed = clone(estimator).set_params(random_state=3, lr=0.5)
    assert changed.random_state == 3 and changed.lr == 0.5


def test_idec_has_gamma_and_its_own_defaults():
    params = IDEC().get_params()
    assert params["gamma"] == 0.1 and params["optimizer"] == "adam" and params["lr"] == 0.001
    assert "gamma" not in DEC().get_params()
    assert set(DEC().get_params()) | {"gamma"} == set(params)


def test_idec_loss_is_reconstruction_plus_gamma_kl(pretrained, blobs):
    from deepclust.losses import kl_clustering_loss, reconstruction_loss, student_t_assignment, target_distribution

    model = pretrained[0]
    x = torch.as_tensor(blobs[0][:20])
    generator = torch.Generator().manual_seed(0)
    centers = torch.randn(N_CLUSTERS, EMBEDDING, generator=generator)
    with torch.no_grad():
        z = model.encoder(x)
        q = student_t_assignment(z, centers)
        p = target_distribution(q)
        recon = reconstruction_loss(model.decoder(z), x)
        kl = kl_clustering_loss(p, q)
        torch.testing.assert_close(IDEC(gamma=0.25)._loss(model, x, p, centers), recon + 0.25 * kl)
        torch.testing.assert_close(IDEC(gamma=0.0)._loss(model, x, p, centers), recon)
        torch.testing.assert_close(DEC()._loss(model, x, p, centers), kl)
    assert kl > 0


def test_dec_converges_when_few_labels_change(blobs, pretrained):
    estimator = make(DEC, pretrained[0]).fit(blobs[0])
    history = estimator.history_
    assert estimator.converged_
    assert history[-1]["label_change"] < estimator.tol
    assert history[-1]["iteration"] == estimator.n_iter_
    assert [row["iteration"] for row in history] == list(range(0, estimator.n_iter_ + 1, 5))
    # with tol=0 (never converged early) it runs all max_epochs
    full = make(DEC, pretrained[0], tol=0.0, max_epochs=3).fit(blobs[0])
    assert not full.converged_
    assert full.n_iter_ == 3 * int(np.ceil(len(blobs[0]) / 32))


def test_fit_pretrains_when_no_autoencoder_is_given(blobs):
    X, y = blobs
    kwargs = dict(autoencoder=None, pretrain_epochs=3, hidden_dims=(16,), embedding_dim=2, max_epochs=2)
    estimator = make(DCN, **kwargs).fit(X, y)
    assert [row["epoch"] for row in estimator.pretrain_history_] == [1, 2, 3]
    assert estimator.autoencoder_.config == {"kind": "mlp", "input_dim": X.shape[1], "hidden_dims": [16],
                                             "embedding_dim": 2, "output": "linear"}
    assert estimator.transform(X).shape == (len(X), 2)
    again = make(DCN, **kwargs).fit(X, y)
    np.testing.assert_array_equal(again.transform(X), estimator.transform(X))
    assert estimator.autoencoder is None


def test_fit_predict_matches_labels(blobs, pretrained):
    estimator = make(IDEC, pretrained[0], max_epochs=2)
    labels = estimator.fit_predict(blobs[0])
    np.testing.assert_array_equal(labels, estimator.labels_)


@pytest.mark.parametrize("X, message", [(np.zeros((2, 10)), "at least n_clusters=3 rows; got 2"),
                                        (np.zeros(10), "Expected 2D array, got 1D array")],
                         ids=["too-few-rows", "1-D"])
def test_bad_input_shape_raises(X, message, pretrained):
    with pytest.raises(ValueError, match=message):
        make(DEC, pretrained[0]).fit(X)


def test_unknown_dec_optimizer_raises(blobs, pretrained):
    with pytest.raises(ValueError, match=r"'optimizer' parameter of DEC must be a str among .*Got 'rmsprop'"):
        make(DEC, pretrained[0], optimizer="rmsprop").fit(blobs[0])


def test_dcn_absurd_learning_rate_raises_divergence_error(blobs, pretrained):
    with pytest.raises(engine.DivergenceError, match="DCN: loss became nan at epoch 0"):
        make(DCN, pretrained[0], lr=1e6).fit(blobs[0])


def test_nan_input_without_autoencoder_is_refused_before_pretraining(blobs):
    X = blobs[0].copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        make(DEC, None, pretrain_epochs=2, hidden_dims=(8,), embedding_dim=2).fit(X)


class NaNLossDEC(DEC):
    """DEC whose loss (and so every weight after the first step) is NaN."""

    def _loss(self, *args):
        return super()._loss(*args) * float("nan")


def test_dec_divergence_detected_at_a_target_update(blobs, pretrained):
    estimator = NaNLossDEC(N_CLUSTERS, autoencoder=pretrained[0], n_init=1, device="cpu", update_interval=2,
                           max_epochs=3, batch_size=64)
    with pytest.raises(engine.DivergenceError, match="NaNLossDEC: loss became nan at epoch 0"):
        estimator.fit(blobs[0])


def test_dec_divergence_detected_without_verbose(blobs, pretrained):
    estimator = NaNLossDEC(N_CLUSTERS, autoencoder=pretrained[0], n_init=1, device="cpu", update_interval=1000,
                           max_epochs=3, batch_size=64, verbose=False)
    # with verbose=True this raises; with verbose=False fit returns NaN centres and all labels 0
    with pytest.raises(engine.DivergenceError):
        estimator.fit(blobs[0])


def test_dec_history_epoch_counts_full_passes(blobs, pretrained):
    # 150 samples, batch 64: 3 mini-batches per epoch, so iteration 3 is the end of epoch 1 (reported: 1.28)
    estimator = make(DEC, pretrained[0], batch_size=64, update_interval=3, tol=0.0, max_epochs=2).fit(blobs[0])
    assert [row["epoch"] for row in estimator.history_] == [0.0, 1.0]


def test_verbose_fit_logs_progress(blobs, pretrained, capsys):
    make(DEC, pretrained[0], tol=0.0, max_epochs=10, verbose=True).fit(blobs[0])
    make(DCN, pretrained[0], max_epochs=2, verbose=True).fit(blobs[0])
    err = capsys.readouterr().err
    assert "[DEC] epoch 10/10 loss=" in err
    assert "[DCN] epoch 2/2 loss=" in err
