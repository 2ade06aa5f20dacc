"""What a keypoint model can do beyond ``predict(X)``, as its class declares it.

The photo path and the tracker ask here instead of reading method
signatures or testing ``isinstance``: a class lists its abilities in
``_keypoint_capabilities``, and a user's model (or a scikit-learn
``Pipeline``) that declares none is called with plain ``predict(X)``.
"""

__all__ = ["keypoint_capabilities", "STAGED_PREDICT", "RETURN_STD"]

STAGED_PREDICT = "staged_predict"
"""``staged_predict(X, n_stages=, check_input=)``: stop after the first stages (for framing passes)."""

RETURN_STD = "return_std"
"""``predict(X, return_std=True, check_input=)``: each coordinate's error scale; needs a fitted ``error_model_``."""


def keypoint_capabilities(model):
    """The abilities a fitted keypoint model declares, as a frozenset of :data:`STAGED_PREDICT`, :data:`RETURN_STD`.

    Parameters
    ----------
    model : estimator
        A fitted keypoint estimator (its class's ``_keypoint_capabilities``)
        or anything with ``predict``.

    Returns
    -------
    frozenset of str
        :data:`RETURN_STD` only when the model was fitted with its error
        model (``error_model_`` is not None). Both abilities accept
        ``check_input=False`` for crops the caller made itself.
    """
    declared = frozenset(getattr(type(model), "_keypoint_capabilities", ()))
    if RETURN_STD in declared and getattr(model, "error_model_", None) is None:
        declared = declared - {RETURN_STD}
    return declared
