"""Progress of long steps on stderr: a line rewritten in place on a terminal, plain lines in a log."""

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Report what a long step is doing.

    On a terminal the status line is rewritten in place; when stderr is a
    file or a pipe (a log, CI), a plain line is written whenever the status
    changes, at most once per ``interval`` seconds and not before the
    first ``interval`` has passed, so logs show the progress of long runs
    without a line per item, and quick commands print nothing.

    Parameters
    ----------
    interval : float, default=10.0
        Least seconds between two plain lines (not on a terminal).
    stream : file, default=sys.stderr
    enabled : bool, default=True
        False reports nothing.

    Examples
    --------
    >>> import io
    >>> log = io.StringIO()
    >>> progress = Progress(interval=0.0, stream=log)
    >>> progress("fold 1/5")
    >>> progress.done()
    >>> log.getvalue().endswith("fold 1/5\\n")
    True
    """

    def __init__(self, interval=10.0, stream=None, enabled=True):
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.enabled = enabled
        self.terminal = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self._last = self.start

    def __call__(self, text):
        """Show ``text`` as the current status."""
        if not self.enabled:
            return
        now = time.perf_counter()
        line = f"[{now - self.start:6.0f}s] {text}"
        if self.terminal:
            self.stream.write(f"\r\033[K{line}")
        elif now - self._last >= self.interval:
            self.stream.write(line + "\n")
            self._last = now
        else:
            return
        self.stream.flush()

    def done(self):
        """Clear the status line (on a terminal)."""
        if self.terminal:
            self.stream.write("\r\033[K")
            self.stream.flush()
