"""Saving and loading fitted models, with a check of the library version that saved them."""

from pathlib import Path

import joblib
import numpy as np

from ._version import __version__
from .utils._atomic import atomic_write

__all__ = [
    "ModelVersionError",
    "save_model",
    "load_model",
    "load_default_model",
    "load_default_verifier",
    "load_default_face_detector",
    "widen_verifier",
    "face_fingerprints",
    "DEFAULT_MODEL",
    "DEFAULT_VERIFIER",
    "IBUG68_MODEL",
    "DEFAULT_FACE_DETECTOR",
]

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "default.joblib"
IBUG68_MODEL = Path(__file__).resolve().parent / "models" / "ibug68.joblib"
DEFAULT_VERIFIER = Path(__file__).resolve().parent / "models" / "face_verifier.joblib"
DEFAULT_FACE_DETECTOR = Path(__file__).resolve().parent / "models" / "face_detector.joblib"
_FORMAT = "fkp_classic-model"


class ModelVersionError(ValueError):
    """A model file saved by an incompatible fkp_classic version, or not a model file at all."""


def _compatible(saved, current):
    """Same major and minor version (0.1.x loads 0.1.y)."""
    return saved.split(".")[:2] == current.split(".")[:2]


def face_fingerprints(X):
    """A 64-bit fingerprint of each flattened image, to tell whether faces were in a training set.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_pixels)

    Returns
    -------
    ndarray of shape (n_samples,), uint64
        Equal images give equal fingerprints; different ones collide with
        probability about 2**-64.
    """
    X = np.asarray(X)
    weights = np.random.default_rng(20261125).integers(1, 2**63, size=X.shape[1], dtype=np.uint64) | np.uint64(1)
    with np.errstate(over="ignore"):
        pixels = np.round(X.astype(np.float64) * 1000).astype(np.int64).view(np.uint64)
        return (pixels * weights).sum(axis=1, dtype=np.uint64) ^ np.uint64(X.shape[1])


def save_model(model, path, training_data=None):
    """Write a fitted estimator with the library version, atomically.

    Parameters
    ----------
    model : estimator
    path : str or Path
    training_data : array-like of shape (n_samples, n_pixels), optional
        The faces the model was fitted on: their fingerprints
        (:func:`face_fingerprints`) are stored, so that scoring the model on
        them can be flagged as in-sample (``fkp evaluate`` does).
    """
    payload = {"format": _FORMAT, "fkp_classic_version": __version__, "model": model}
    if training_data is not None:
        payload["training_fingerprints"] = np.unique(face_fingerprints(training_data))
    with atomic_write(path, "wb") as fh:
        joblib.dump(payload, fh, compress=3)


def load_model(path, return_info=False):
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or Path
    return_info : bool, default=False
        Also return a dict with the saving ``fkp_classic_version`` and the
        ``training_fingerprints`` (None when not stored).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelVersionError
        If the file is not an fkp_classic model, or was saved by a version
        whose major.minor differs from this one.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelVersionError(f"{path} is a folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        payload = joblib.load(path)
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("fkp_classic"):  # a class path of an older layout of the package
            raise ModelVersionError(
                f"{path} was saved by an fkp_classic older than 0.3 (it names {exc.name}, which no longer exists); "
                f"refit it with the installed {__version__} (e.g. fkp fit), or load it with fkp_classic<0.3"
            ) from None
        raise ModelVersionError(f"{path} needs the module {exc.name}, which is not installed") from None
    except Exception as exc:  # joblib raises many kinds for a file that is not a pickle
        raise ModelVersionError(f"{path} is not a readable fkp_classic model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ModelVersionError(f"{path} is not an fkp_classic model file (save one with fkp_classic.persistence.save_model)")
    model = payload.get("model")
    if not (hasattr(model, "predict") or hasattr(model, "decision_function") or callable(model)):
        raise ModelVersionError(
            f"{path} holds a {type(model).__name__}, not a fitted model (save an estimator with save_model)"
        )
    saved = str(payload.get("fkp_classic_version"))
    if not _compatible(saved, __version__):
        raise ModelVersionError(
            f"{path} was saved by fkp_classic {saved}, which is incompatible with the installed {__version__}; "
            f"refit it with this version"
        )
    if return_info:
        info = {"fkp_classic_version": saved, "training_fingerprints": payload.get("training_fingerprints")}
        return payload["model"], info
    return payload["model"]


def load_default_model(return_info=False, layout="kaggle15"):
    """The pretrained model shipped in the package (fitted on all of faces96; see :func:`load_model`).

    Parameters
    ----------
    return_info : bool, default=False
    layout : {"kaggle15", "ibug68"}, default="kaggle15"
        The 15 Kaggle keypoints, or the 68 iBUG points (numbered as dlib's
        ``shape_predictor_68_face_landmarks``, 0-based: jaw 0-16, brows
        17-26, nose 27-35, eyes 36-47, mouth 48-67).

    Both are built by ``tools/train_default.py`` (``--points 68`` for the 68-point one, a
    reduced-rank cascade of :data:`~fkp_classic.estimators.DENSE_LAYOUT_PARAMS`, 1.0 MB); should a
    copy of the package lack one, the error says how to build it.
    """
    if layout not in ("kaggle15", "ibug68"):
        raise ValueError(f"layout must be 'kaggle15' or 'ibug68', got {layout!r}")
    if layout == "ibug68":
        loaded = _load_packaged(IBUG68_MODEL, "68-point model", return_info, script="tools/train_default.py --points 68")
    else:
        loaded = _load_packaged(DEFAULT_MODEL, "default model", return_info)
    widen_model(loaded[0] if return_info else loaded)
    return loaded


def widen_model(model):
    """Undo the packaged keypoint model's compact storage: its ridges' float32 or float16 weights to float64.

    ``tools/train_default.py`` narrows them to keep the file small; predict works in float64 (so that a
    face's keypoints do not depend on its batch), and would otherwise widen them on every call. Each
    estimator knows its own weights: this calls the model's ``widen_weights()`` (as
    :meth:`~fkp_classic.estimators.CascadeRegressor.widen_weights`) when it has one, and returns the model.
    """
    widen = getattr(model, "widen_weights", None)
    if widen is not None:
        widen()
    return model


def load_default_verifier():
    """The packaged last check of the photo pipeline (:func:`fkp_classic.photo.make_face_verifier`).

    Built by ``tools/train_face_detector.py`` from the packaged detector's false alarms.
    """
    return widen_verifier(_load_packaged(DEFAULT_VERIFIER, "face verifier", script="tools/train_face_detector.py"))


def widen_verifier(verifier):
    """Undo the packaged verifier's compact storage: float16 arrays to float32, support vectors to float64.

    ``tools/train_face_detector.py`` narrows them to keep the file under 2 MiB (scores move by about
    1e-4); libsvm predicts only from float64 support vectors.
    """
    for step in verifier:
        for name, value in list(vars(step).items()):
            if isinstance(value, np.ndarray) and value.dtype == np.float16:
                setattr(step, name, value.astype(np.float32))
        if hasattr(step, "support_vectors_"):
            step.support_vectors_ = np.ascontiguousarray(step.support_vectors_, dtype=np.float64)
    return verifier


def load_default_face_detector():
    """The packaged HOG face detector (:class:`fkp_classic.photo.HOGFaceDetector`), trained on faces96's frames.

    Built by ``tools/train_face_detector.py``.
    """
    return _load_packaged(DEFAULT_FACE_DETECTOR, "face detector", script="tools/train_face_detector.py")


def _load_packaged(path, what, return_info=False, script="tools/train_default.py"):
    if not path.is_file():
        raise FileNotFoundError(f"the packaged {what} {path} is missing; build it with {script}")
    return load_model(path, return_info)
