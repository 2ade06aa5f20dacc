"""BLAS threads on the paths whose matrix products are small: one thread, set by a process-wide controller."""

import functools

from threadpoolctl import ThreadpoolController


@functools.cache
def _threadpools():
    """One ThreadpoolController per process: it scans the loaded libraries, too slow to repeat per call."""
    return ThreadpoolController()


def one_blas_thread():
    """A context that keeps BLAS (numpy's, loaded by now) to one thread.

    The photo path's and the cascade's predict-time products are small
    (a pyramid level's windows against a few filters, a block of faces
    against a stage's ridge): BLAS's threads cost more than they save
    there, and far more when other processes share the cores. Entering
    it costs microseconds (the controller is made once).
    """
    return _threadpools().limit(limits=1, user_api="blas")
