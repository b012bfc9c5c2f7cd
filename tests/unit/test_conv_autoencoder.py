"""DCEC's convolutional autoencoder: exact shapes for the benchmark image sizes, saving, pretraining
on sklearn's 8x8 digits, and DEC/IDEC/DCN starting from it."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from deepclust import methods
from deepclust.metrics import cluster_accuracy
from deepclust.nn import autoencoder, networks
from deepclust.nn.autoencoder import ConvAutoencoder
from deepclust.pretrain import embed, pretrain_autoencoder

DIGITS_SHAPE = (1, 8, 8)
SMALL_FILTERS = (8, 16, 32)  # the pipeline, not the capacity, is under test: keep it fast


def layer_sizes(model, x):
    """(height, width) after each (transposed) convolution, encoder then decoder."""
    sizes = []
    for layer in [*model.encoder, *model.decoder]:
        x = layer(x)
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            sizes.append(tuple(x.shape[2:]))
    return sizes


@pytest.mark.parametrize("image_shape, sizes", [
    ((1, 28, 28), [28, 14, 7, 3]),   # MNIST: 28 % 8 != 0, so the third convolution is 'valid'
    ((1, 16, 16), [16, 8, 4, 2]),    # USPS
    ((3, 32, 32), [32, 16, 8, 4]),   # CIFAR-10
    ((1, 8, 8), [8, 4, 2, 1]),       # sklearn digits
], ids=["mnist", "usps", "cifar", "digits"])
def test_flat_rows_round_trip_through_dcec_sizes(image_shape, sizes):
    model = ConvAutoencoder(image_shape)
    x = torch.rand(5, int(np.prod(image_shape)))
    assert model.encoder(x).shape == (5, 10)
    assert model(x).shape == x.shape
    encoder_sizes = [(s, s) for s in sizes[1:]]
    decoder_sizes = [(s, s) for s in sizes[-2::-1]]
    assert layer_sizes(model, x) == encoder_sizes + decoder_sizes


def test_architecture_and_config():
    model = ConvAutoencoder((1, 28, 28), filters=(4, 8, 16), embedding_dim=5)
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in convs] == [
        (1, 4, (5, 5), (2, 2)), (4, 8, (5, 5), (2, 2)), (8, 16, (3, 3), (2, 2))]
    transposed = [m for m in model.decoder if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size) for m in transposed] == [
        (16, 8, (3, 3)), (8, 4, (5, 5)), (4, 1, (5, 5))]
    # linear embedding and linear reconstruction, as in DCEC
    assert isinstance(model.encoder[-1], torch.nn.Linear) and model.encoder[-1].in_features == 16 * 3 * 3
    assert isinstance(model.decoder[-2], torch.nn.ConvTranspose2d) and isinstance(model.decoder[-1], torch.nn.Flatten)
    assert model.config == {"kind": "cae", "image_shape": [1, 28, 28], "filters": [4, 8, 16], "embedding_dim": 5}
    assert isinstance(networks.build(model.config), ConvAutoencoder)


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = ConvAutoencoder((1, 16, 16), filters=SMALL_FILTERS).eval()
    path = tmp_path / "cae.pt"
    networks.save(path, model)
    loaded = networks.load(path)
    assert isinstance(loaded, ConvAutoencoder) and not loaded.training
    assert loaded.config == model.config
    x = torch.rand(7, 256)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
        assert torch.equal(loaded.encoder(x), model.encoder(x))


@pytest.fixture(scope="module")
def digits():
    """sklearn's 1797 8x8 digits, flattened and scaled to [0, 1]."""
    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


PRETRAIN = dict(kind="cae", image_shape=list(DIGITS_SHAPE), filters=SMALL_FILTERS, embedding_dim=10,
                batch_size=32, lr=3e-3, device="cpu", verbose=False)


@pytest.fixture(scope="module")
def pretrained_cae(digits):
    """Enough pretraining for k-means on the embedding to reach about 0.6 accuracy (chance: 0.1)."""
    return pretrain_autoencoder(digits[0], epochs=8, random_state=3, **PRETRAIN)


def test_pretraining_on_digits_lowers_loss(digits, pretrained_cae):
    model, history = pretrained_cae
    assert isinstance(model, ConvAutoencoder) and not model.training
    assert [row["epoch"] for row in history] == list(range(1, 9))
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    z = embed(model, digits[0])
    assert z.shape == (len(digits[0]), 10) and z.dtype == np.float32


def test_pretraining_is_deterministic_for_a_seed(digits):
    X, _ = digits
    model, history = pretrain_autoencoder(X, epochs=2, random_state=1, **PRETRAIN)
    again, again_history = pretrain_autoencoder(X, epochs=2, random_state=1, **PRETRAIN)
    other, _ = pretrain_autoencoder(X, epochs=2, random_state=2, **PRETRAIN)
    assert history == again_history
    np.testing.assert_array_equal(embed(model, X), embed(again, X))
    assert not np.array_equal(embed(model, X), embed(other, X))


@pytest.mark.parametrize("algorithm, settings", [
    ("dec", dict(update_interval=10, max_epochs=2)),
    ("idec", dict(update_interval=10, max_epochs=2)),
    ("dcn", dict(max_epochs=2, lr=1e-3)),
    ("dcec", dict(update_interval=10, max_epochs=2)),
])
def test_deep_methods_start_from_a_pretrained_cae(algorithm, settings, digits, pretrained_cae):
    X, y = digits
    cae = pretrained_cae[0]
    before = {k: v.clone() for k, v in cae.state_dict().items()}
    estimator = methods.get(algorithm)(10, autoencoder=cae, batch_size=256, n_init=2, device="cpu",
                                       random_state=0, **settings).fit(X, y)
    assert isinstance(estimator.autoencoder_, ConvAutoencoder)
    assert estimator.labels_.shape == (len(X),)
    assert estimator.transform(X).shape == (len(X), 10)
    assert estimator.cluster_centers_.shape == (10, 10)
    assert estimator.predict(X[:50]).shape == (50,)
    assert all(np.isfinite(row["loss"]) for row in estimator.history_[1:])
    assert cluster_accuracy(y, estimator.labels_) > 0.3  # chance is 0.1
    for key, value in cae.state_dict().items():  # the shared autoencoder is copied, never trained
        assert torch.equal(value, before[key]), key


def test_cae_without_image_shape_is_refused(digits):
    with pytest.raises(ValueError, match=r"kind 'cae' needs image_shape"):
        pretrain_autoencoder(digits[0][:20], epochs=1, kind="cae", device="cpu", verbose=False)


def test_image_shape_not_matching_the_features_is_refused(digits):
    with pytest.raises(ValueError, match=r"image_shape \[1, 8, 9\] has 72 values but the data has 64 features"):
        pretrain_autoencoder(digits[0][:20], epochs=1, kind="cae", image_shape=(1, 8, 9), device="cpu",
                             verbose=False)


def test_unknown_kind_lists_the_valid_kinds(digits):
    with pytest.raises(ValueError, match=r"unknown network kind 'jule'; valid kinds: \['cae', 'mlp', 'vae'\]"):
        pretrain_autoencoder(digits[0][:20], epochs=1, kind="jule", device="cpu", verbose=False)  # not pretrained
    with pytest.raises(ValueError, match=r"unknown network kind 'rbm'; valid kinds: \['cae', 'infogan', 'jule', 'mlp'"):
        networks.build({"kind": "rbm"})


@pytest.mark.parametrize("image_shape, message", [
    ((8, 8), r"image_shape must be \(channels, height, width\)"),
    ((1, 4, 4), "too small"),
])
def test_invalid_image_shapes_are_refused(image_shape, message):
    with pytest.raises(ValueError, match=message):
        ConvAutoencoder(image_shape)


def test_mlp_kind_ignores_conv_settings():
    model = autoencoder.make("mlp", 64, hidden_dims=(16,), embedding_dim=3, filters=(1, 2, 3), image_shape=None)
    assert model.config == {"kind": "mlp", "input_dim": 64, "hidden_dims": [16], "embedding_dim": 3, "output": "linear"}


def test_dcec_refuses_a_fully_connected_autoencoder(digits):
    X, _ = digits
    mlp = autoencoder.make("mlp", X.shape[1], hidden_dims=(16,), embedding_dim=4)
    with pytest.raises(ValueError, match="DCEC needs a convolutional autoencoder .*MLPAutoencoder; use IDEC"):
        methods.get("dcec")(10, autoencoder=mlp, device="cpu").fit(X)


def test_dcec_without_autoencoder_pretrains_a_cae_of_the_image_shape(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"give image_shape=\(C, H, W\)"):
        methods.get("dcec")(10, device="cpu", pretrain_epochs=1).fit(X[:100])
    dcec = methods.get("dcec")(10, image_shape=DIGITS_SHAPE, filters=SMALL_FILTERS, pretrain_epochs=2,
                               batch_size=128, update_interval=10, max_epochs=1, n_init=2, device="cpu",
                               random_state=0).fit(X, y)
    assert isinstance(dcec.autoencoder_, ConvAutoencoder)
    assert dcec.autoencoder_.config["filters"] == list(SMALL_FILTERS)
    assert len(dcec.pretrain_history_) == 2
