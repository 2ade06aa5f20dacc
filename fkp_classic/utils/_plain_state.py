"""An object's plain values (parameters, counts, logs) stored as one JSON string in its saved state.

A safe model file (:mod:`skops.io`) rebuilds every object it holds one by one, each with its own checks, so
a model of many small values (every parameter of every stage of a cascade) loads slower than its pickle.
Packing the values JSON gives back unchanged into one string makes them a single object. Arrays, tuples and
other objects keep their own entries, and a state saved without the string loads as before.
"""

import json

__all__ = ["pack_plain_state", "unpack_plain_state"]

_KEY = "_plain_state_json"


def _is_plain(value):
    """Whether JSON gives ``value`` back as it is: None, bool, int, float, str, or lists and str-keyed dicts of them."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_is_plain(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _is_plain(item) for key, item in value.items())
    return False


def pack_plain_state(state):
    """``state`` with its plain values moved into one JSON string (a new dict)."""
    plain = {key: value for key, value in state.items() if _is_plain(value)}
    packed = {key: value for key, value in state.items() if key not in plain}
    packed[_KEY] = json.dumps(plain)
    return packed


def unpack_plain_state(state):
    """The state :func:`pack_plain_state` packed, whole again (a new dict); other states are returned as they are."""
    state = dict(state)
    state.update(json.loads(state.pop(_KEY, "{}")))
    return state
