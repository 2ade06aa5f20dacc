"""Live reading: a thread decodes frames into a one-slot buffer, the reader takes the newest (never falls behind)."""

import threading
import time

__all__ = ["NewestFrame", "newest_frames"]


class NewestFrame:
    """A one-slot buffer between a decoding thread and the reader: a newer frame replaces one not yet taken."""

    def __init__(self):
        self._ready = threading.Condition()
        self._item = None
        self._finished = False
        self._error = None

    def put(self, item):
        """Offer ``item``, replacing the one waiting (which is dropped)."""
        with self._ready:
            self._item = item
            self._ready.notify()

    def finish(self, error=None):
        """No more items: the reader gets the one waiting, then ``error`` (if any) or the end."""
        with self._ready:
            self._finished, self._error = True, error
            self._ready.notify()

    def take(self):
        """The newest item, waiting for one; None at the end. Raises the error :meth:`finish` was given."""
        with self._ready:
            while self._item is None and not self._finished:
                self._ready.wait(0.1)  # a timeout: Ctrl-C reaches the main thread while it waits
            item, self._item = self._item, None
            if item is None and self._error is not None:
                raise self._error
            return item


def newest_frames(decoded, *, pace=False):
    """The newest of ``decoded``'s items each time one is asked for, ``decoded`` running on its own thread.

    Parameters
    ----------
    decoded : iterable of tuple
        ``(frame, index, time_s, captured_at)`` items, read on a thread
        as fast as they come; its errors reach the caller.
    pace : bool, default=False
        Hold each item back until its ``time_s`` from the first one (a
        file or a pipe plays at its frame rate, as a camera would give
        it); an item already late is given at once and the clock restarts
        from it, so pacing never makes the reader fall behind.

    Yields
    ------
    tuple
        The items, ``captured_at`` the :func:`time.perf_counter` at which
        each was given to the slot; those a newer one replaced before
        they were taken are left out.
    """
    slot, stop = NewestFrame(), threading.Event()

    def run():
        start = None
        try:
            for frame, index, time_s, captured_at in decoded:
                if stop.is_set():
                    break
                if pace:
                    now = time.perf_counter()
                    if start is None or now > start + time_s:
                        start = now - time_s
                    elif stop.wait(start + time_s - now):
                        break
                    captured_at = time.perf_counter()
                slot.put((frame, index, time_s, captured_at))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
            slot.finish(exc)
            return
        finally:
            close = getattr(decoded, "close", None)
            if close is not None:
                close()  # the decoder's container is closed on this thread, which used it
        slot.finish()

    thread = threading.Thread(target=run, name="fkp-video-reader", daemon=True)
    thread.start()
    try:
        while (item := slot.take()) is not None:
            yield item
    finally:
        stop.set()
        thread.join(timeout=2.0)  # a source stuck in a read is left to its timeout (the thread is a daemon)
