"""An output file written as results come, each piece flushed, so a stopped run keeps what it finished."""

from pathlib import Path

__all__ = ["AppendingFile"]


class AppendingFile:
    """A text file opened at the first write (a run that fails before it leaves none), flushed on every write.

    Parameters
    ----------
    path : str, Path or text stream
        The file; or an open stream such as ``sys.stdout``, written to
        (from its start: ``append`` does not apply) and left open.
    append : bool, default=False
        Continue an existing file (else it is started afresh).
    """

    def __init__(self, path, append=False):
        self._stream = path if hasattr(path, "write") else None
        self.path, self.append = (None if self._stream else Path(path)), append
        self._fh = None

    def _write(self, text):
        if self._fh is None:
            if self._stream is not None:
                self._fh = self._stream
                self._started(True)
            else:
                self._fh = open(self.path, "a" if self.append else "w", encoding="utf-8", newline="")
                self._started(self._fh.tell() == 0)
        self._fh.write(text)
        self._fh.flush()

    def _started(self, empty):
        """Called once the file is open: ``empty`` when it has nothing yet (to write a header, say)."""

    def close(self):
        if self._fh is not None and self._fh is not self._stream:
            self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
