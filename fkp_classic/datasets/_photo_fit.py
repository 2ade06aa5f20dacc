"""Fitting a keypoint model from annotated photos: crops cut as the photo path cuts them, then the estimator."""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from ._annotated_photos import AnnotatedPhotos
from ._photo_crops import FRAMING_NOISE, photo_training_crops, resize_crops

__all__ = ["PHOTO_LICENCE_NOTE", "fit_from_photos", "photo_cascade"]

PHOTO_LICENCE_NOTE = (
    "Fitted on the 300-W annotations (iBUG, Imperial College London), which are licensed for research and "
    "non-commercial use only: so is this model."
)
"""What a model fitted on 300-W must say where it ships."""

_300W_SUBSETS = ("afw", "helen", "lfpw", "ibug")


def photo_cascade(size=96, layout=None, **params):
    """The 68-point cascade for ``size``-pixel photo crops: :data:`DENSE_LAYOUT_PARAMS` with cells scaled to the size.

    Its descriptor cells keep the same share of the face at every size
    (``cell_sizes`` times ``size / 96``); no ``flip`` (mirror the photos
    instead: :func:`photo_training_crops`'s ``mirror``). ``params`` override.
    """
    from ..estimators import DENSE_LAYOUT_PARAMS, CascadeRegressor

    base = dict(DENSE_LAYOUT_PARAMS, flip=False)
    base["cell_sizes"] = tuple(round(c * size / 96, 2) for c in base["cell_sizes"])
    base.update(image_shape=(size, size), layout=layout)
    base.update(params)
    return CascadeRegressor(**base)


@validate_params(
    {
        "photos": [AnnotatedPhotos],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "size": [Interval(numbers.Integral, 8, None, closed="left")],
        "extra": [tuple, None],
        "random_state": ["random_state"],
        "licence": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def fit_from_photos(photos, *, estimator=None, size=96, extra=None, random_state=0, licence="auto", **crop_params):
    """A keypoint model fitted on crops of annotated photos, ready for :class:`~fkp_classic.photo.KeypointDetector`.

    Crops are cut by :func:`photo_training_crops` (``crop_params`` are its
    keyword arguments: ``mean_shape``, ``n_perturbations``,
    ``framing_noise``, ``rotation``, ``mirror``, ``blur``, ...), optionally
    joined by ready-cut crops (``extra``, resampled to ``size``), and a clone of
    ``estimator`` is fitted on them.

    Parameters
    ----------
    photos : AnnotatedPhotos
    estimator : estimator or None, default=None
        Fitted on the crops (cloned first). None is :func:`photo_cascade` for
        ``size`` and the photos' layout.
    size : int, default=96
        Side of the crops, which becomes the model's ``image_shape_``.
    extra : (X, y) or None, default=None
        Ready-cut square crops and their points in crop pixels (e.g. faces96
        loaded with ``layout="ibug68"``), in the same layout, added to the
        photos' crops.
    random_state : int, RandomState or None, default=0
        For the crops' perturbations.
    licence : str or None, default="auto"
        Added to the model's ``training_note_``. "auto" is
        :data:`PHOTO_LICENCE_NOTE` when the photos come from 300-W's folders
        (subsets named ``afw``, ``helen...``, ``lfpw...``, ``ibug...``), else nothing.
    **crop_params
        Keyword arguments of :func:`photo_training_crops`.

    Returns
    -------
    model : fitted estimator
        Its ``training_note_`` says which data it was fitted on and, for
        300-W, the annotations' licence (research, non-commercial use only).
    """
    crop_params.setdefault("framing_noise", FRAMING_NOISE)
    crops = photo_training_crops(photos, size=size, random_state=random_state, **crop_params)
    X, y = crops.data, crops.target
    if extra is not None:
        if len(extra) != 2:
            raise ValueError("extra must be (X, y): crops and their points")
        X_extra, y_extra = resize_crops(*extra, size)
        if y_extra.shape[1] != y.shape[1]:
            raise ValueError(f"extra has {y_extra.shape[1] // 2} points per face but the photos' layout has "
                             f"{y.shape[1] // 2}")
        X, y = np.concatenate([X, X_extra]), np.concatenate([y, y_extra])
    model = clone(photo_cascade(size, photos.layout) if estimator is None else estimator)
    model.fit(X, y)
    subsets = ", ".join(sorted(set(photos.subset)))
    note = f"Fitted on {photos.n_faces} annotated faces ({subsets})"
    note += f" and {len(extra[0])} ready-cut crops." if extra is not None else "."
    if licence == "auto":
        is_300w = any(str(s).split("/")[-1].lower().startswith(_300W_SUBSETS) for s in set(photos.subset))
        licence = PHOTO_LICENCE_NOTE if is_300w else None
    model.training_note_ = note if licence is None else f"{note} {licence}"
    return model
