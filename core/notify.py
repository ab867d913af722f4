"""Waking up on database changes: LISTEN on PostgreSQL, a timer (polling) on SQLite.

Who waits: an idle worker for a queued run (QUEUE_CHANNEL), an API process for changes of the
runs its event streams follow (RUN_EVENTS_CHANNEL). Who notifies: the database itself, from the
triggers of migration 0007 (PostgreSQL only), so every write path wakes the listeners.

    listener = listen(database_url, QUEUE_CHANNEL, poll_interval_s=0.1)
    payloads = listener.wait(timeout_s=2.0)  # what was notified; [] after a poll or a timeout

`wait` returns on a notification, on `interrupt()` (e.g. from a signal handler), or at the
timeout: a PostgreSQL listener blocks the whole timeout (the caller's slow safety poll) unless
notified; a polling one returns after `poll_interval_s` at most, the caller then reads the
database. A lost PostgreSQL connection degrades to polling until it reconnects.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger("motionlab.notify")

QUEUE_CHANNEL = "motionlab_queue"  # payload: the engine of a run that became queued
RUN_EVENTS_CHANNEL = "motionlab_run_events"  # payload: the id of a run that changed


class PollingListener:
    """No notifications: every wait is a poll interval (or less, when interrupted)."""

    def __init__(self, *, poll_interval_s: float):
        self.poll_interval_s = poll_interval_s
        self._interrupted = threading.Event()

    def wait(self, timeout_s: float) -> list[str]:
        self._interrupted.wait(max(0.0, min(timeout_s, self.poll_interval_s)))
        self._interrupted.clear()
        return []

    def interrupt(self) -> None:
        self._interrupted.set()

    def close(self) -> None:
        pass


class PostgresListener(PollingListener):
    """LISTEN on one channel over its own autocommit connection (not the pool's)."""

    def __init__(self, conninfo: str, channel: str, *, poll_interval_s: float):
        super().__init__(poll_interval_s=poll_interval_s)
        self.conninfo, self.channel = conninfo, channel
        self._connection: psycopg.Connection | None = None
        # interrupt() writes a byte here: it wakes the select() below (signal-safe).
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)

    def wait(self, timeout_s: float) -> list[str]:
        try:
            connection = self._connect()
        except psycopg.Error as error:
            log.warning("LISTEN unavailable, polling channel=%s error=%s", self.channel, error)
            return super().wait(timeout_s)
        try:
            return self._wait(connection, timeout_s)
        except psycopg.Error as error:
            log.warning("LISTEN connection lost channel=%s error=%s", self.channel, error)
            self._drop()
            return super().wait(timeout_s)

    def _connect(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.conninfo, autocommit=True)
            self._connection.execute(f"LISTEN {self.channel}")
        return self._connection

    def _wait(self, connection: psycopg.Connection, timeout_s: float) -> list[str]:
        payloads = [n.payload for n in connection.notifies(timeout=0, stop_after=None)]
        if payloads:
            return payloads
        with selectors.DefaultSelector() as selector:
            selector.register(connection.fileno(), selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            ready = {key.fd for key, _ in selector.select(max(0.0, timeout_s))}
        if self._wake_read in ready:
            os.read(self._wake_read, 4096)
        if connection.fileno() in ready:
            payloads = [n.payload for n in connection.notifies(timeout=0, stop_after=None)]
        return payloads

    def interrupt(self) -> None:
        if self._wake_write < 0:
            return  # closed: no one is waiting
        with contextlib.suppress(BlockingIOError):  # already full of wake-ups
            os.write(self._wake_write, b"!")

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Once: the pipe's descriptor numbers may belong to someone else afterwards."""
        self._drop()
        if self._wake_read >= 0:
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1


def listen(database_url: str, channel: str, *, poll_interval_s: float) -> PollingListener:
    """A listener for `channel`: PostgreSQL's LISTEN, or polling on any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return PollingListener(poll_interval_s=poll_interval_s)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresListener(conninfo, channel, poll_interval_s=poll_interval_s)
