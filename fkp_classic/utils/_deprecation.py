"""Keyword-only parameters with a grace period: positional calls of the old signature still work, with a warning.

Public functions and classes take their data (a path, a photo, the
keypoints, a model) by position and every option by keyword, as
scikit-learn's do. Signatures that took options by position before 0.5
are declared keyword-only now and decorated with
:func:`keyword_only_after`: until 0.6, a call passing those options by
position is mapped onto them, as the old signature did, with a
``FutureWarning`` naming them (scikit-learn 0.23-1.1's
``_deprecate_positional_args`` did the same for its estimators).
"""

import functools
import warnings
from inspect import Parameter, signature

__all__ = ["keyword_only_after", "REMOVED_IN"]

REMOVED_IN = "0.6"
"""The version from which options passed by position are refused."""


def keyword_only_after(func):
    """Let ``func``'s keyword-only parameters still be given by position, with a ``FutureWarning``.

    ``func`` is declared with its options after ``*``; extra positional
    arguments are given to those options in their order of declaration.

    Parameters
    ----------
    func : callable
        A function or method (``__init__`` included) with keyword-only
        parameters, in the order the old signature took them.

    Returns
    -------
    wrapper : callable
        ``func`` with the same signature (``inspect.signature`` shows the
        keyword-only one).

    Examples
    --------
    >>> import warnings
    >>> @keyword_only_after
    ... def scale(x, *, factor=2, offset=0):
    ...     return x * factor + offset
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = scale(1, 3, 1)
    >>> result, str(caught[0].message)[:55]
    (4, 'pass factor=3, offset=1 as keyword arguments: scale tak')
    """
    params = signature(func).parameters.values()
    positional = [p.name for p in params if p.kind in (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)]
    keyword_only = [p.name for p in params if p.kind == Parameter.KEYWORD_ONLY]
    name = func.__qualname__.replace(".__init__", "")
    n_data = len([p for p in positional if p not in ("self", "cls")])

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        extra = len(args) - len(positional)
        if extra <= 0:
            return func(*args, **kwargs)
        if extra > len(keyword_only):
            return func(*args, **kwargs)  # too many arguments: Python's own TypeError says so
        moved = dict(zip(keyword_only, args[len(positional):]))
        twice = sorted(set(moved) & set(kwargs))
        if twice:
            raise TypeError(f"{name}() got multiple values for argument {twice[0]!r}")
        warnings.warn(
            f"pass {', '.join(f'{k}={v!r}' if _short(v) else k for k, v in moved.items())} as keyword "
            f"arguments: {name} takes {n_data} argument(s) by position, and from fkp_classic {REMOVED_IN} "
            "will refuse more",
            FutureWarning,
            stacklevel=2,
        )
        return func(*args[: len(positional)], **moved, **kwargs)

    return wrapper


def _short(value):
    """Is ``value`` worth quoting in the warning (a number, a short string, None, a bool)?"""
    return value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) < 30)
