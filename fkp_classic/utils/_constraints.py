"""Parameter constraints scikit-learn's ``_param_validation`` lacks: fixed pairs and sequences of numbers.

scikit-learn validates ``_parameter_constraints`` against a closed set of
constraint classes; a pair such as ``pixels_per_cell=(8, 8)`` or a
per-stage tuple such as ``cell_sizes=(12, 10, 8)`` fits none of them. The
classes here extend its :class:`~sklearn.utils._param_validation.Options`
(a class its validator accepts as a constraint) with a check of each
element against an :class:`~sklearn.utils._param_validation.Interval`, so
such parameters are refused at ``fit`` with the same
``InvalidParameterError`` and wording as every other parameter.
"""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, Options

__all__ = ["NumberSequence", "IMAGE_SHAPE"]


class NumberSequence(Options):
    """A tuple or list of numbers, each within ``interval``, of a given length.

    Parameters
    ----------
    interval : Interval
        The range every element must lie in (its type: Integral or Real).
    length : int or None, default=None
        Exact number of elements; None accepts any number from ``min_length``.
    min_length : int, default=1
    """

    def __init__(self, interval, length=None, min_length=1):
        super().__init__(type=(tuple, list, np.ndarray), options=set())
        self.interval = interval
        self.length = length
        self.min_length = min_length

    def is_satisfied_by(self, val):
        if isinstance(val, (str, bytes)) or not isinstance(val, (tuple, list, np.ndarray)):
            return False
        if np.ndim(val) != 1:
            return False
        if self.length is not None and len(val) != self.length:
            return False
        if len(val) < self.min_length:
            return False
        return all(not isinstance(v, bool) and self.interval.is_satisfied_by(v) for v in val)

    def __str__(self):
        count = f"{self.length}" if self.length is not None else f"at least {self.min_length}"
        return f"a tuple of {count} numbers, each {self.interval}"


IMAGE_SHAPE = NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)
"""The ``image_shape`` constraint: ``(height, width)``, at least one pixel each (or None, listed beside it)."""
