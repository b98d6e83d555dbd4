"""n_jobs, as scikit-learn spells it: a grid's rows (or a plane's points) in bands over joblib
workers.

Every path computes a cell (or point) the same whatever range of the grid it is asked for
(cells live in blocks aligned to row 0, points in chunks whose numbers do not depend on
their neighbours), so a band computed in a worker gives the bits the serial pass gives, and
the tables are the same for every n_jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from sklandscape.engine.landscape import Progress

log = logging.getLogger("sklandscape")

# Bands per worker: progress moves while they work, and no worker waits long for the last.
BANDS_PER_WORKER = 4


def banded(compute: Callable[[range, Progress | None], Iterable], span: range, n_jobs,
           progress: Progress | None = None, unit: int = 1, align: int = 1) -> Iterator:
    """Yield what compute(band, progress) yields, for consecutive bands covering `span`, in
    order.

    One worker (n_jobs None or 1): the whole span in this process, compute reporting its
    own progress. More: BANDS_PER_WORKER bands per worker (their edges on multiples of
    `align`: whole blocks), each computed in a loky worker with one BLAS thread (threads on
    these small batched products only cost), progress reported as each band arrives, in
    `unit`s per item of the span (a row is `unit` cells).
    """
    from joblib import effective_n_jobs

    workers = effective_n_jobs(n_jobs)
    if workers == 1 or len(span) < 2:
        yield from compute(span, progress)
        return
    from joblib import Parallel, delayed, parallel_config

    count = min(len(span), BANDS_PER_WORKER * workers)
    cuts = (span.start + k * len(span) // count for k in range(1, count))
    cuts = {cut - cut % align for cut in cuts}  # down to a whole block
    edges = sorted({span.start, span.stop} | {cut for cut in cuts if cut > span.start})
    log.info("%d bands of %d over %d worker processes (n_jobs=%s)", len(edges) - 1, len(span),
             workers, n_jobs)
    with parallel_config(backend="loky", inner_max_num_threads=1):
        parts = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_whole)(compute, range(lo, hi)) for lo, hi in zip(edges[:-1], edges[1:]))
        for hi, band in zip(edges[1:], parts):
            yield from band
            if progress:
                progress((hi - span.start) * unit, len(span) * unit)


def _whole(compute, band: range) -> list:
    return list(compute(band, None))
