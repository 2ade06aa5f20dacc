"""Declarative parameter checks: constraints for sequences of numbers, and the check of a class's constraints.

scikit-learn validates ``_parameter_constraints`` against a closed set of
constraint kinds; a pair such as ``pixels_per_cell=(8, 8)`` or a
per-stage tuple such as ``cell_sizes=(12, 10, 8)`` is none of its named
ones. One of its kinds is any type (satisfied by ``isinstance``), and
Python lets a type decide its own ``isinstance`` (``__instancecheck__``):
:func:`NumberSequence` makes such a type, so these parameters are refused
with scikit-learn's own ``InvalidParameterError`` and wording, through
its documented constraint kinds, without subclassing its constraint
classes.

:func:`check_params` checks the ``_parameter_constraints`` of an object
that is not an estimator (a face detector: no ``fit`` to check them in)
with scikit-learn's public :func:`~sklearn.utils._param_validation.validate_params`.
"""

import functools
import numbers
from inspect import Parameter, Signature

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["NumberSequence", "IMAGE_SHAPE", "check_params"]


class _SequenceType(type):
    """Metaclass of :func:`NumberSequence`'s types: ``isinstance`` checks the length and every element."""

    def __instancecheck__(cls, val):
        if isinstance(val, (str, bytes)) or not isinstance(val, (tuple, list, np.ndarray)):
            return False
        if np.ndim(val) != 1:
            return False
        if cls.length is not None and len(val) != cls.length:
            return False
        if len(val) < cls.min_length:
            return False
        return all(not isinstance(v, bool) and cls.interval.is_satisfied_by(v) for v in val)

    def __call__(cls):
        # scikit-learn's tests make a valid value of a type constraint by calling the type: a valid tuple
        low = cls.interval.left if cls.interval.left is not None else 0
        value = low + 1 if cls.interval.type is numbers.Integral else low + 0.5
        return (value,) * (cls.length or cls.min_length)


def NumberSequence(interval, length=None, min_length=1):
    """A constraint for ``_parameter_constraints``: a tuple or list of numbers, each in ``interval``.

    Parameters
    ----------
    interval : Interval
        The range every element must lie in (its type: Integral or Real).
    length : int or None, default=None
        Exact number of elements; None accepts any number from ``min_length``.
    min_length : int, default=1

    Returns
    -------
    constraint : type
        A type whose instances (by ``isinstance``) are the valid values;
        named by what it accepts, as scikit-learn's error messages quote it.

    Examples
    --------
    >>> import numbers
    >>> from sklearn.utils._param_validation import Interval
    >>> pair = NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)
    >>> isinstance((8, 8), pair), isinstance((8, 0), pair), isinstance(8, pair)
    (True, False, False)
    """
    count = f"{length}" if length is not None else f"at least {min_length}"
    description = f"a tuple of {count} numbers, each {interval}"
    # module "builtins": scikit-learn's messages then quote the description alone
    namespace = {"interval": interval, "length": length, "min_length": min_length, "__module__": "builtins",
                 "__qualname__": description, "__doc__": description}
    return _SequenceType(description, (), namespace)


IMAGE_SHAPE = NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)
"""The ``image_shape`` constraint: ``(height, width)``, at least one pixel each (or None, listed beside it)."""


def check_params(instance, **values):
    """Check an object's parameters against its class's ``_parameter_constraints``.

    For classes that are not estimators (called, not fitted); an estimator
    checks its own in ``fit`` (``self._validate_params()``). ``values``, if
    given, are checked instead of the object's attributes (for a class that
    stores its parameters only once it has turned them into what it uses).

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        A ``ValueError`` naming the first parameter that satisfies none of its
        constraints, the class, what it must be and what it got.
    """
    cls = type(instance)
    _checker(cls)(**(values or {name: getattr(instance, name) for name in cls._parameter_constraints}))


@functools.cache
def _checker(cls):
    def check(**params):
        return None

    check.__signature__ = Signature([Parameter(name, Parameter.KEYWORD_ONLY) for name in cls._parameter_constraints])
    check.__qualname__ = check.__name__ = cls.__name__
    return validate_params(cls._parameter_constraints, prefer_skip_nested_validation=True)(check)
