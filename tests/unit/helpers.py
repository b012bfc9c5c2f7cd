"""Sizes shared by the fixtures in conftest.py and the tests."""

N_SAMPLES, N_FEATURES, N_CLUSTERS = 150, 10, 3
HIDDEN, EMBEDDING = (32, 32), 3
