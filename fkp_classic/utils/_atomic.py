"""Atomic file writes: a temporary file in the target folder, renamed into place."""

import contextlib
import errno
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "check_writable"]


def check_writable(path, what="output"):
    """Refuse, before any work, a ``path`` that :func:`atomic_write` could not write.

    Parameters
    ----------
    path : str or Path
    what : str, default="output"
        Names the file in the message (e.g. "model file").

    Returns
    -------
    folder : Path
        The folder the file goes in.

    Raises
    ------
    IsADirectoryError, FileNotFoundError, PermissionError
        If ``path`` is a folder, its folder does not exist, or is not writable.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {what} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {what} {path}: folder {folder} is not writable")
    try:  # the real test (a read-only file system, or root's os.access saying yes to everything)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise _write_error(exc, what, path) from None
    return folder


def _write_error(exc, what, path):
    """The OSError ``exc`` (of a hidden temporary file) restated for the user's ``path``."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full"
    error = type(exc) if type(exc) in (PermissionError, FileNotFoundError) else OSError
    return error(exc.errno, f"cannot write {what} {path}: {reason}; nothing was written")


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """Open a temporary file that replaces ``path`` only if the block succeeds.

    On any exception the temporary file is removed and an existing ``path``
    is left untouched, so a failed write never leaves a half-written file.

    Parameters
    ----------
    path : str or Path
        Final destination.
    mode : {"w", "wb"}
        Text or binary.
    **open_kwargs
        Passed to :func:`open` (e.g. ``newline=""``).

    Yields
    ------
    file object
        Write to it inside the ``with`` block.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    folder = check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _write_error(exc, "output", path) from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it a normal file's mode
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # disk full, file system gone read-only, target turned into a folder...
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise _write_error(exc, "output", path) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
