"""deepclust: deep clustering methods as scikit-learn style estimators.

Kept import-free on purpose: the workflow imports ``deepclust.provenance`` while it
parses the Snakefile, and that must not pull in torch.
"""

__version__ = "0.1.0"
