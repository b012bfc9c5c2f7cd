"""The MLP autoencoder with a sigmoid output (`nets.<id>.output: sigmoid`, VaDE's authors'
autoencoder): its reconstruction, its binary cross-entropy pretraining by hand, the VAE that VaDE
builds on it, and refusals."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch.nn import functional as F

from deepclust.nn import autoencoder, networks
from deepclust.nn.vae import VariationalAutoencoder
from deepclust.pretrain import pretrain_autoencoder


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return (X[:200] / 16).astype(np.float32)


def test_sigmoid_output_squashes_the_decoders_logits_and_survives_a_rebuild():
    torch.manual_seed(0)
    model = autoencoder.make("mlp", 5, hidden_dims=[4], embedding_dim=2, output="sigmoid")
    x = torch.randn(6, 5) * 10
    logits = model.decoder(model.encoder(x))
    torch.testing.assert_close(model(x), torch.sigmoid(logits))
    assert model.config["output"] == "sigmoid"
    rebuilt = networks.build(model.config)
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt(x), model(x))
    # a model file saved before `output` existed rebuilds with a linear output
    old = networks.build({"kind": "mlp", "input_dim": 5, "hidden_dims": [4], "embedding_dim": 2})
    old.load_state_dict(model.state_dict())
    torch.testing.assert_close(old(x), logits)


def test_pretraining_minimises_binary_cross_entropy_averaged_over_elements(digits):
    # one full batch at a vanishing learning rate: the epoch's loss is the untrained model's
    model, history = pretrain_autoencoder(digits, hidden_dims=[16], embedding_dim=3, epochs=1,
                                          batch_size=len(digits), lr=1e-12, optimizer="sgd", output="sigmoid",
                                          device="cpu", random_state=3, verbose=False)
    x = torch.from_numpy(digits)
    with torch.no_grad():
        expected = F.binary_cross_entropy(model(x), x).item()  # Keras' binary_crossentropy
        squared = F.mse_loss(model(x), x).item()
    assert history[0]["loss"] == pytest.approx(expected, rel=1e-5)
    assert abs(expected - squared) > 0.1  # the two losses are told apart


def test_pretraining_a_sigmoid_autoencoder_learns(digits):
    _, history = pretrain_autoencoder(digits, hidden_dims=[32], embedding_dim=3, epochs=8, batch_size=50,
                                      output="sigmoid", device="cpu", verbose=False)
    losses = [row["loss"] for row in history]
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.95 * losses[0]


def test_vae_on_a_sigmoid_autoencoder_starts_as_its_reconstruction():
    torch.manual_seed(0)
    ae = autoencoder.make("mlp", 5, hidden_dims=[4], embedding_dim=2, output="sigmoid")
    vae = VariationalAutoencoder.from_autoencoder(ae, "bernoulli")
    x = torch.rand(6, 5)
    # the Bernoulli decoder's logits are the autoencoder's pre-sigmoid output
    torch.testing.assert_close(vae(x), ae(x))
    refusal = "output 'sigmoid' has a decoder that gives logits.*'bernoulli', not 'gaussian'"
    with pytest.raises(ValueError, match=refusal):
        VariationalAutoencoder.from_autoencoder(ae, "gaussian")


def test_refusals(digits):
    with pytest.raises(ValueError, match="output must be one of .*'linear', 'sigmoid'.*got 'tanh'"):
        autoencoder.make("mlp", 5, output="tanh")
    with pytest.raises(ValueError, match="output 'sigmoid' is for kind 'mlp' only"):
        autoencoder.make("cae", 64, image_shape=(1, 8, 8), output="sigmoid")
    with pytest.raises(ValueError, match=r"output 'sigmoid' needs features in \[0, 1\], got \[-1, 1\]; "
                                         "use preprocess: minmax or output: linear"):
        pretrain_autoencoder(2 * digits - 1, hidden_dims=[4], embedding_dim=2, epochs=1, output="sigmoid",
                             device="cpu", verbose=False)
