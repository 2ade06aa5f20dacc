"""Standard input as a byte stream, refused with a clear error when nothing can be piped in."""

import sys

__all__ = ["piped_stdin"]


def piped_stdin(error, reads, pipe_hint):
    """Standard input's byte stream; ``error`` raised when there is none or it is a terminal.

    Parameters
    ----------
    error : type of Exception
        The caller's error (a photo's or a video's).
    reads : str
        What ``-`` reads, for the messages (e.g. ``"a photo from standard input"``).
    pipe_hint : str
        How to pipe something in, said when standard input is a terminal.
    """
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    if stream is None:
        raise error(f"- reads {reads}, and this process has none")
    if sys.stdin.isatty():
        raise error(f"- reads {reads}, which is a terminal here: {pipe_hint}")
    return stream
