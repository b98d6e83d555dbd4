"""Progress of a long job, written to its log: chunks done, time elapsed, time left; and,
inside a public call (`progress_bars`), shown as a bar a person sees."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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


# The bars of the public call running in this thread, or None: the pipeline's jobs log only.
_BARS: ContextVar[list | None] = ContextVar("sklandscape_progress_bars", default=None)
# A bar appears only once its call has run this long: a short call prints nothing.
BAR_DELAY = 1.0


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[None]:
    """While a public call runs: every ProgressLog made inside it also draws a bar (tqdm.auto:
    a widget in a notebook, a line on stderr in a terminal), closed when the call ends."""
    bars: list | None = [] if enabled else None
    token = _BARS.set(bars)
    try:
        yield
    finally:
        _BARS.reset(token)
        for bar in bars or ():
            bar.close()


def _bar_unit(unit: str) -> str:
    """A bar's short unit, the log's without its explanation: "grid points" -> "cells",
    "Hessian-vector products (…)" -> "products", "iterations of max_iter (…)" -> "iterations"."""
    head = unit.split(" (")[0].split(" of ")[0]
    return "cells" if head == "grid points" else head.split()[-1]


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
        self.bar = None

    def _show(self, done: int, total: int, bars: list) -> None:
        if self.bar is None:
            from tqdm.auto import tqdm

            first, _, rest = self.label.partition(" ")
            # "random_plane random_plane" (a kind under its default name) reads as one word
            label = rest if rest.startswith(first) else self.label
            self.bar = tqdm(total=total, desc=label, unit=_bar_unit(self.unit),
                            delay=BAR_DELAY, dynamic_ncols=True)
            bars.append(self.bar)  # the call closes it when it ends
        if total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def __call__(self, done: int, total: int) -> None:
        bars = _BARS.get()
        if bars is not None:  # inside a public call that shows its progress
            self._show(done, total, bars)
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


def part_of(progress, before: int, total: int):
    """The callback of one part of a longer loop (a pair, a seed, a held-out pass): its own
    (done, its total) reported to `progress` as (before + done, total)."""
    return lambda done, _: progress(before + done, total)
