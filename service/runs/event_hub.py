"""What wakes a run's event stream: one LISTEN per API process on PostgreSQL, a timer on SQLite.

Each stream subscribes to its run before it reads the run, then sleeps until `changed()`
returns: on PostgreSQL when the run's row or progress changed (migration 0007's triggers
NOTIFY), or at the slow safety poll; on SQLite after EVENT_POLL_S, when the stream reads again.
One thread per API process listens and hands each notification to the streams of that run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from core.notify import RUN_EVENTS_CHANNEL, PollingListener, listen

log = logging.getLogger("motionlab.events")
EVENT_POLL_S = 0.1  # SQLite: how late a follower may learn of a change; each poll is a few reads
# PostgreSQL: a stream reads its run at least this often (a missed notification, a client gone).
SAFETY_POLL_S = 2.0


class Subscription:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.event.set)


class RunEventHub:
    """Started by the first stream that subscribes, stopped with the app (and started again if
    the app is: a test client may run an app's lifespan twice)."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.notified = make_url(database_url).get_backend_name() == "postgresql"
        self._streams: dict[str, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()
        self._listening: tuple[PollingListener, threading.Thread, threading.Event] | None = None

    @contextlib.contextmanager
    def subscribe(self, run_id: str) -> Iterator[Subscription]:
        subscription = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._streams[run_id].add(subscription)
            if self.notified and self._listening is None:
                self._listening = self._start()
        try:
            yield subscription
        finally:
            with self._lock:
                self._streams[run_id].discard(subscription)
                if not self._streams[run_id]:
                    del self._streams[run_id]

    async def changed(self, subscription: Subscription) -> None:
        """Return when the subscribed run may have changed (or at the next poll); the caller
        reads it again. Notifications that came since the previous return count."""
        if not self.notified:
            await asyncio.sleep(EVENT_POLL_S)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscription.event.wait(), SAFETY_POLL_S)
        subscription.event.clear()

    def _start(self) -> tuple[PollingListener, threading.Thread, threading.Event]:
        listener = listen(self.database_url, RUN_EVENTS_CHANNEL, poll_interval_s=EVENT_POLL_S)
        stopping = threading.Event()
        thread = threading.Thread(
            target=self._listen, args=(listener, stopping), name="motionlab-run-events", daemon=True
        )
        thread.start()
        return listener, thread, stopping

    def _listen(self, listener: PollingListener, stopping: threading.Event) -> None:
        while not stopping.is_set():
            run_ids = set(listener.wait(SAFETY_POLL_S))
            with self._lock:
                woken = [s for run_id in run_ids for s in self._streams.get(run_id, ())]
            for subscription in woken:
                subscription.wake()

    def close(self) -> None:
        with self._lock:
            listening, self._listening = self._listening, None
        if listening is not None:
            listener, thread, stopping = listening
            stopping.set()
            listener.interrupt()
            thread.join(timeout=5)
            if not thread.is_alive():  # never under the thread's feet
                listener.close()
