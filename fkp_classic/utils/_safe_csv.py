"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection)."""

import csv
import io

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_row", "csv_line"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def safe_cell(value):
    """``value``, with a single quote in front if a spreadsheet would run it as a formula.

    Numbers, and text that reads as a number (``-3.20``, ``+1e3``), are
    kept as they are, so negative coordinates stay numbers.

    Parameters
    ----------
    value : object
        A cell; only text is ever changed.

    Returns
    -------
    object

    References
    ----------
    .. [1] OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value if value[0] in "+-" else "'" + value  # a number after a tab or CR is still escaped


def safe_row(values):
    """Each cell of ``values`` through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


def csv_line(values):
    """One CSV line (with its newline) of ``values``, made safe and quoted as :mod:`csv` quotes."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(safe_row(values))
    return buffer.getvalue()
