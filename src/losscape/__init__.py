"""losscape: loss landscapes of small scikit-learn MLPs."""

__version__ = "0.1.0"
