"""An object's plain values (parameters, counts, logs, small arrays) stored as one JSON string in its saved state.

A safe model file (:mod:`skops.io`) rebuilds every object it holds one by one, each with its own checks (an
array's ``.npy`` header is parsed as Python source), so a model of many small values (every parameter and
intercept of every stage of a cascade) loads slower than its pickle. Packing what JSON gives back unchanged
into one string makes them a single object: Python's plain values and flat tuples of them, numpy's numeric
scalars and numeric arrays of at most ``SMALL_ARRAY`` elements (dtype, shape and values: a float's shortest
repr reads back as the same float, bit for bit), and the names of entries holding the same object as an
earlier entry. Larger arrays and other objects keep their own entries, and a state saved without the strings
loads as before.
"""

import json

import numpy as np

__all__ = ["pack_plain_state", "unpack_plain_state", "SMALL_ARRAY"]

_KEY = "_plain_state_json"
_ARRAYS = "_small_arrays_json"

SMALL_ARRAY = 256
"""Numeric arrays of at most this many elements are packed into the JSON string."""


def _is_plain(value):
    """Whether JSON gives ``value`` back as it is: None, bool, int, float, str, or lists and str-keyed dicts of them."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_is_plain(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _is_plain(item) for key, item in value.items())
    return False


def _is_flat_tuple(value):
    """A tuple of None, bool, int, float and str (JSON gives it back as a list, made a tuple again)."""
    return type(value) is tuple and all(item is None or type(item) in (bool, int, float, str) for item in value)


def _is_small_numeric(value):
    """A numpy numeric scalar, or a numeric array of at most SMALL_ARRAY elements (not a subclass, not a view
    whose base must be kept)."""
    if isinstance(value, np.generic):
        return value.dtype.kind in "biuf"
    return type(value) is np.ndarray and value.dtype.kind in "biuf" and value.size <= SMALL_ARRAY


def pack_plain_state(state):
    """``state`` with its plain values and small numeric arrays moved into JSON strings (a new dict)."""
    plain = {key: value for key, value in state.items() if _is_plain(value)}
    small = {key: value for key, value in state.items() if key not in plain and _is_small_numeric(value)}
    tuples = {key: value for key, value in state.items() if _is_flat_tuple(value)}
    packed, aliases, first = {}, {}, {}
    for key, value in state.items():
        if key in plain or key in small or key in tuples:
            continue
        if id(value) in first:  # the same object as an earlier entry (a layout and the layout_ it resolved to)
            aliases[key] = first[id(value)]
        else:
            first[id(value)] = key
            packed[key] = value
    packed[_KEY] = json.dumps(plain)
    if small or tuples or aliases:
        packed[_ARRAYS] = json.dumps(
            {key: [value.dtype.str, None if isinstance(value, np.generic) else value.shape, value.tolist()]
             for key, value in small.items()} | {key: ["tuple", None, list(value)] for key, value in tuples.items()}
            | {key: ["alias", None, target] for key, target in aliases.items()})
    return packed


def unpack_plain_state(state):
    """The state :func:`pack_plain_state` packed, whole again (a new dict); other states are returned as they are."""
    state = dict(state)
    state.update(json.loads(state.pop(_KEY, "{}")))
    for key, (dtype, shape, values) in json.loads(state.pop(_ARRAYS, "{}")).items():
        if dtype in ("tuple", "alias"):  # an alias names an entry the state already holds
            state[key] = tuple(values) if dtype == "tuple" else state[values]
            continue
        dtype = np.dtype(dtype)
        state[key] = dtype.type(values) if shape is None else np.array(values, dtype=dtype).reshape(shape)
    return state
