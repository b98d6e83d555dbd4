"""Analyses of a trained network: curvature (the exact Hessian, convexity and plateau maps),
optimizers on a 2-D slice, and adversarial inputs.

Imports sklandscape.model and sklandscape.engine; never directions, figures, io or the pipeline.
"""
