"""Directions in weight space: weight pairs, filter-normalised random planes, the
interpolation line, and the PCA plane of a training path.

Imports sklandscape.model and sklandscape.engine; never analyses, figures, io or the pipeline.
"""
