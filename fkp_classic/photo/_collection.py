"""Photo collections of any size: paths from folders, globs and lists, faces found in order on processes or a Dask cluster.

Everything streams: paths are listed lazily, at most a few photos per
process are in flight, and each result is given back (and can be written)
as soon as the ones before it are done.
"""

import collections
import glob
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..utils._appending import AppendingFile
from ..utils._memory import keep_freed_memory

__all__ = ["PHOTO_SUFFIXES", "RECORD_SCHEMA", "photo_paths", "detect_photos", "read_done", "JsonLinesWriter"]

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
"""Files a folder is searched for (case-insensitive)."""

RECORD_SCHEMA = 2
"""The version of the per-photo record :func:`detect_photos` gives (and ``fkp detect --json``/``--jsonl`` write).

Every record has the keys ``schema``, ``photo``, ``error``, ``frames_in_file``
and ``faces``, each face :meth:`Face.to_dict`'s; a change of keys or meanings
gets a new number.
"""


def photo_paths(inputs):
    """Photo paths named by ``inputs``, lazily and in order.

    Each input is a photo file; a folder (its photos, by name, not its
    sub-folders); a glob pattern such as ``"shots/*.jpg"`` (quoted, so the
    shell leaves it); or ``@list.txt``, a file naming one path per line
    (blank lines and lines starting with ``#`` skipped; relative paths
    are taken from the list's folder). A name that matches nothing is
    given as it is, so that reading it reports the problem.

    Parameters
    ----------
    inputs : iterable of str or Path

    Yields
    ------
    str
    """
    for item in inputs:
        item = str(item)
        if item.startswith("@"):
            listing = Path(item[1:])
            with open(listing, encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        path = Path(line)
                        yield str(path if path.is_absolute() else listing.parent / path)
        elif os.path.isdir(item):
            with os.scandir(item) as entries:
                names = sorted(e.name for e in entries if e.is_file() and e.name.lower().endswith(PHOTO_SUFFIXES))
            yield from (os.path.join(item, name) for name in names)
        elif not os.path.exists(item) and glob.has_magic(item):
            yield from sorted(glob.iglob(item))
        else:
            yield item


_WORKER = {}


def _start_worker(params, one_thread=False):
    """Build the worker's KeypointDetector once (the packaged parts load in each process).

    With ``one_thread``, the worker's BLAS and OpenMP pools keep to one
    thread: the processes share the cores, and threads on top of them only
    fight over them.
    """
    from ._pipeline import KeypointDetector

    if one_thread:
        from threadpoolctl import threadpool_limits

        _WORKER["limits"] = threadpool_limits(limits=1)
    _WORKER["detector"] = KeypointDetector(**params)


def photo_record(path, faces=None, *, error=None, frames_in_file=None):
    """One photo's record, with every key whatever happened (see :data:`RECORD_SCHEMA`)."""
    return {"schema": RECORD_SCHEMA, "photo": path, "error": error, "frames_in_file": frames_in_file,
            "faces": None if faces is None else [face.to_dict() for face in faces]}


def _detect_one(path):
    """One photo's record (:func:`photo_record`): its faces, or the error that stopped it."""
    from ._read import PhotoError, read_photo

    try:
        image, n_frames = read_photo(path)
        faces = _WORKER["detector"].detect(image, name=path)
    except (PhotoError, ValueError, OSError) as exc:
        return photo_record(path, error=str(exc))
    return photo_record(path, faces, frames_in_file=n_frames)


def _detect_remote(paths, params, token):
    """A batch of photos on a Dask worker; the worker builds its detector once per run (``token``)."""
    if _WORKER.get("token") != token:
        keep_freed_memory()
        _start_worker(params, one_thread=True)
        _WORKER["token"] = token
    return [_detect_one(path) for path in paths]


def _batches(paths, size):
    batch = []
    for path in paths:
        batch.append(path)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _in_order(submit, items, window):
    """``submit(item).result()`` for each item, in order, with at most ``window`` futures in flight."""
    pending = collections.deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _on_cluster(paths, client, params, batch=8):
    import uuid

    token = uuid.uuid4().hex
    [shared] = client.scatter([params], broadcast=True, hash=False)  # once to each worker; a key of its own per run
    window = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    # A few photos per task: the scheduler's cost per task is paid less often.
    submit = lambda group: client.submit(_detect_remote, group, shared, token, pure=False)  # noqa: E731
    for records in _in_order(submit, _batches(paths, batch), window):
        yield from records


def detect_photos(paths, jobs=1, client=None, **params):
    """Faces of each photo, in the order of ``paths``, on ``jobs`` local processes or a Dask cluster.

    Parameters
    ----------
    paths : iterable of str
        Read lazily: a generator of millions of paths is fine.
    jobs : int, default=1
        Processes; 1 runs here, in this process.
    client : dask.distributed.Client, optional
        Run on this Dask cluster instead (``jobs`` is then ignored): the
        parameters are sent once to every worker, each worker builds its
        detector once, photos go in tasks of 8, two tasks per worker in
        flight, and the
        results still come back in input order. The workers read the
        photos themselves: give paths they can see.
    **params
        For :class:`KeypointDetector` (``model``, ``face_detector``,
        ``verifier``, ``min_score``, ...); they are sent once per process.

    Yields
    ------
    dict
        ``{"schema": 2, "photo": path, "error": None, "frames_in_file": n,
        "faces": [Face.to_dict(), ...]}`` (``n`` is 1 but for an animation,
        whose first frame is searched), or, for a photo that cannot be read,
        ``"error"`` the message and ``frames_in_file`` and ``faces`` None:
        the run goes on. The keys are always these (:data:`RECORD_SCHEMA`).

    Notes
    -----
    BLAS runs on one thread in every process (in this one while the
    generator is being read): the processes share the cores, and the
    results are the same, to the last bit, whatever ``jobs``.
    """
    if client is not None:
        yield from _on_cluster(paths, client, params)
        return
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1:  # BLAS on one thread here too: sums in the same order, so the results equal the processes'
        from threadpoolctl import threadpool_limits

        _start_worker(params)
        with threadpool_limits(limits=1):
            for path in paths:
                yield _detect_one(path)
        return
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(params, True)) as pool:
        # 4 photos in flight per process: memory stays bounded whatever the collection's size
        yield from _in_order(lambda path: pool.submit(_detect_one, path), paths, 4 * jobs)


def read_done(path):
    """Photos already recorded in a JSON Lines output, for resuming; a cut-off last line is removed.

    Returns
    -------
    done : set of str
    failed : int
        How many of them were recorded with an error.

    Raises
    ------
    ValueError
        If the file holds records of another :data:`RECORD_SCHEMA` (an
        earlier version's): going on would mix two formats in one file.
    """
    path = Path(path)
    done, failed = set(), 0
    if not path.is_file():
        return done, failed
    good = 0
    with open(path, "rb") as fh:
        for line in fh:
            try:
                record = json.loads(line)
                photo = record["photo"]
            except (ValueError, KeyError, TypeError):
                break  # a run killed mid-line: what follows is rewritten
            if not line.endswith(b"\n"):
                break
            if record.get("schema") != RECORD_SCHEMA:
                raise ValueError(
                    f"{path} holds records of another format (schema {record.get('schema', 'none')}, this version "
                    f"writes {RECORD_SCHEMA}): resuming would mix two formats in one file; start a new file")
            done.add(photo)
            failed += record.get("error") is not None
            good += len(line)
    if good != path.stat().st_size:
        with open(path, "r+b") as fh:
            fh.truncate(good)
    return done, failed


class JsonLinesWriter(AppendingFile):
    """Append one JSON record per line, flushed as it comes, so a stopped run keeps every finished line.

    ``path`` may also be an open text stream (``sys.stdout``), written to and left open.
    """

    def write(self, record):
        self._write(json.dumps(record) + "\n")
