"""Errors that users see, shared by every layer (this module imports nothing of losscape)."""


class DataFileError(ValueError):
    """A data file that cannot be used; the message names the file (and column, row)."""
