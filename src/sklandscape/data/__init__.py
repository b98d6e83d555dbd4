"""Datasets: the generating functions and their sampling, and a user's own table checked
column by column.

Beside sklandscape.model at the lowest layer: imports numpy and pandas, and of sklandscape only the
shared helpers (sklandscape.errors).
"""
