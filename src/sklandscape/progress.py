"""Progress of a long job, written to its log: chunks done, time elapsed, time left."""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger("sklandscape")

# Seconds between two progress lines. Operational, not a config value: changing it
# reruns nothing.
PROGRESS_EVERY_ENV = "SKLANDSCAPE_PROGRESS_EVERY"
DEFAULT_EVERY = 5.0


def progress_interval(default: float = DEFAULT_EVERY) -> float:
    """$SKLANDSCAPE_PROGRESS_EVERY in seconds, else `default`."""
    text = os.environ.get(PROGRESS_EVERY_ENV, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also catches nan
        raise ValueError(f"{PROGRESS_EVERY_ENV}={text!r}: expected a number of seconds >= 0")
    return value


class ProgressLog:
    """Logs chunks done, grid points done, time elapsed and time left.

    Called once per finished chunk with (grid points done, grid points in all). Logs at
    most every `every` seconds (default: $SKLANDSCAPE_PROGRESS_EVERY, else 5), and always
    after the last chunk. Chunks are of equal size but the last, so the number of chunks
    follows from the points per chunk so far.
    """

    def __init__(self, label: str, every: float | None = None, unit: str = "grid points",
                 chunks: bool = True):
        self.label, self.unit, self.show_chunks = label, unit, chunks
        self.every = progress_interval() if every is None else every
        self.chunks = 0
        self.started = self.last = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        self.chunks += 1
        now = time.perf_counter()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.started
        if done:
            left = elapsed / done * (total - done)
            chunks_total = self.chunks - (-(total - done) * self.chunks // done)
        else:
            left, chunks_total = float("nan"), self.chunks
        if not self.show_chunks:  # a loop of steps, not of equal chunks
            log.info("%s: %d/%d %s (%.0f%%), %.1fs elapsed, ~%.1fs left", self.label, done,
                     total, self.unit, 100 * done / total if total else 100.0, elapsed, left)
            return
        log.info(
            "%s: chunk %d/%d done (%d/%d %s, %.0f%%), %.1fs elapsed, ~%.1fs left",
            self.label,
            self.chunks,
            chunks_total,
            done,
            total,
            self.unit,
            100 * done / total,
            elapsed,
            left,
        )
