"""Something a job does every few seconds beside its work (its run's heartbeat, a look at its
invocation's process): a daemon thread, so it never keeps the job alive."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    """Calls `action()` every `seconds` while the `with` block runs; it stops early when the
    action returns True."""

    def __init__(self, seconds: float, action: Callable[[], bool | None], name: str):
        self.seconds, self.action = seconds, action
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.seconds):
            if self.action():
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
