"""The network itself: a fitted MLP as a named flat weight vector, its batched forward pass
and losses, exact derivatives (gradients, Hessian-vector products, input gradients), and
fitting scikit-learn's MLPs with their path recorded.

The lowest layer: imports numpy, scipy and scikit-learn, and of sklandscape only the shared
helpers (sklandscape.errors, sklandscape.progress, sklandscape.provenance).
"""
