"""Sizes and settings shared by the fixtures in conftest.py and the tests."""

N_SAMPLES, N_FEATURES, N_CLUSTERS = 150, 10, 3
HIDDEN, EMBEDDING = (32, 32), 3
DIGITS_SAMPLES, DIGITS_SHAPE, DIGITS_CLUSTERS = 300, (1, 8, 8), 10
# the tiny convolutional autoencoder pretrained on the digits (conftest's digits_cae)
TINY_CAE = dict(kind="cae", image_shape=DIGITS_SHAPE, filters=(4, 8, 8), embedding_dim=5)

# every registered deep method -> (data set, pretrained network it starts from or None, tiny
# settings): a run of a second or less (conftest's deep_case builds it)
DEEP_CASES = {
    "dec": ("blobs", "mlp", dict(update_interval=5, max_epochs=2, batch_size=32, n_init=3, tol=0.0)),
    "idec": ("blobs", "mlp", dict(update_interval=5, max_epochs=2, batch_size=32, n_init=3, tol=0.0)),
    "dcn": ("blobs", "mlp", dict(max_epochs=2, batch_size=32, lr=1e-3, n_init=3)),
    "dcec": ("digits", "cae", dict(update_interval=5, max_epochs=1, batch_size=50, n_init=3, tol=0.0)),
    "metric_learning": ("blobs", "mlp", dict(rounds=2, batch_size=24, n_init=3, tol=0.0)),
    "vade": ("blobs", "mlp", dict(max_epochs=2, batch_size=50)),
    "infogan": ("digits", None, dict(image_shape=DIGITS_SHAPE, hidden_dim=32, q_hidden_dim=16, filters=8,
                                     noise_dim=8, batch_size=50, max_epochs=1)),
    "jule": ("digits", None, dict(image_shape=DIGITS_SHAPE, filters=4, feature_dim=8, epochs_per_period=1,
                                  batch_size=50)),
}
