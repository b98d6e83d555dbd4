"""Every error sklandscape raises on purpose, in one place (this module imports nothing).

Catch `SklandscapeError` to catch them all::

    try:
        sl.weights(model, X, y, axes=("W1[0,0]", "W9[0,0]"))
    except sl.SklandscapeError as error:
        print(error)

Each is also a `ValueError`, as a bad value or a bad file is, so code written against the
older names keeps working.
"""


class SklandscapeError(Exception):
    """The base of every error sklandscape raises on purpose; its message says what to fix."""


class DataFileError(SklandscapeError, ValueError):
    """A data file that cannot be used; the message names the file (and column, row)."""


class UntrustedModelError(SklandscapeError, ValueError):
    """A model file that is not a skops file, or that references types outside the trusted list."""


class ConfigError(SklandscapeError, ValueError):
    """Invalid config: the message lists every problem found, each with its key path."""


class DuplicateKeyError(SklandscapeError, ValueError):
    """A config file that gives one key twice in one mapping (YAML would keep the second)."""

    def __init__(self, key, first: int, second: int):
        self.key, self.first, self.second = key, first, second
        super().__init__(f"key {key!r} is given twice in one mapping (lines {first} and "
                         f"{second}); YAML would keep only the second, silently")


class OptionError(SklandscapeError, ValueError):
    """A function's option out of its range; the message names the option and the value, in
    the words the pipeline's config errors use for the same key."""
