"""A CSV written a block of rows at a time, so a stopped run keeps its finished rows and can continue."""

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ._appending import AppendingFile
from ._safe_csv import csv_line

__all__ = ["CsvRows", "read_done_ids"]


def read_done_ids(path, header):
    """Ids in the first column of the CSV ``path`` written by :class:`CsvRows` with ``header``.

    A last line cut off by a stopped run is removed from the file (it is
    written again).

    Returns
    -------
    ids : ndarray of int64, sorted (empty when the file is missing or empty)

    Raises
    ------
    ValueError
        If the file has other columns than ``header`` or a line that is not
        one of its rows.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return np.empty(0, np.int64)
    raw = path.read_bytes()
    good = raw[: raw.rfind(b"\n") + 1]
    first = good.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
    if first != csv_line(header).rstrip("\n"):
        raise ValueError(f"{path} has the columns {first[:80]!r}, not this run's ({','.join(header[:3])},...): "
                         "continue it with the model and options that wrote it, or write to a new file")
    try:
        frame = pd.read_csv(io.BytesIO(good), dtype=str, keep_default_na=False)
        ids = pd.to_numeric(frame.iloc[:, 0], errors="raise").to_numpy()
        if frame.shape[1] != len(header) or (ids % 1 != 0).any() or (frame == "").to_numpy().any():
            raise ValueError
    except (ValueError, pd.errors.ParserError):
        raise ValueError(f"{path} holds lines that are not rows of {len(header)} values: it was not written by "
                         "fkp (or was edited); write to a new file") from None
    if len(good) != len(raw):
        with open(path, "r+b") as fh:
            fh.truncate(len(good))
    return np.sort(ids.astype(np.int64))


class CsvRows(AppendingFile):
    """Append rows to a CSV, flushed block by block; the header is written when the file is new or empty.

    The file is opened at the first block written: a run that fails before
    it has anything to write leaves no file.

    Parameters
    ----------
    path : str or Path
    header : list of str
    append : bool, default=False
        Continue an existing file (else it is started afresh).
    """

    def __init__(self, path, header, append=False):
        super().__init__(path, append)
        self.header = list(header)

    def _started(self, empty):
        if empty:
            self._fh.write(csv_line(self.header))  # names from a model file: never a spreadsheet formula

    def write(self, ids, values):
        """Write one row per id: the id, then its values (formatted as pandas writes floats)."""
        frame = pd.DataFrame(np.asarray(values), columns=self.header[1:])
        frame.insert(0, self.header[0], np.asarray(ids))
        self._write(frame.to_csv(index=False, header=False, lineterminator="\n"))
