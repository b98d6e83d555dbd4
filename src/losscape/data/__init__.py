"""Datasets: the generating functions and their sampling, and a user's own table checked
column by column.

Beside losscape.model at the lowest layer: imports numpy and pandas, and of losscape only the
shared helpers (losscape.errors).
"""
