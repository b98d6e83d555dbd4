"""The landscape engine: grids and tiles, the plain batched pass (the reference), and the
structured fast paths (output_quadratic, separable, one_unit, rank_update) that evaluate the
loss over two weights exactly, a whole grid at once.

Imports sklandscape.model and the shared helpers; never directions, analyses, figures, io or
the pipeline.
"""
