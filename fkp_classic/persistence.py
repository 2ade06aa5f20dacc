"""Saving and loading fitted models: a safe file format (no code runs on load), with a version check.

Models are written with :mod:`skops.io`: the state of each object (its arrays as ``.npy`` entries, the
rest as JSON) in a zip, and nothing else. Loading builds only the types of :data:`TRUSTED_TYPES` and
those skops trusts by default (numpy, scipy and scikit-learn types, Python's builtins), so a model file
from someone else cannot run code. Pickles (joblib files, which run whatever code they name when
loaded) are read only when asked to, with ``trusted=True``.
"""

import json
import zipfile
from pathlib import Path

import joblib
import numpy as np

from ._version import __version__
from .utils._atomic import atomic_write

__all__ = [
    "ModelVersionError",
    "UntrustedModelError",
    "TRUSTED_TYPES",
    "save_model",
    "load_model",
    "convert_model",
    "load_default_model",
    "load_default_verifier",
    "load_default_face_detector",
    "load_part_refiner",
    "widen_verifier",
    "face_fingerprints",
    "DEFAULT_MODEL",
    "DEFAULT_VERIFIER",
    "POINT_STD_LIMITS",
    "IBUG68_MODEL",
    "DEFAULT_FACE_DETECTOR",
    "PART_REFINER",
]

_MODELS = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = _MODELS / "default.skops"
IBUG68_MODEL = _MODELS / "ibug68.skops"
DEFAULT_VERIFIER = _MODELS / "face_verifier.skops"
DEFAULT_FACE_DETECTOR = _MODELS / "face_detector.skops"
PART_REFINER = _MODELS / "parts68.skops"
_FORMAT = "fkp_classic-model"

POINT_STD_LIMITS = {"kaggle15": 0.0243, "ibug68": 0.0364}
"""Each packaged keypoint model's ``point_std_limit_`` (given it by :func:`load_default_model`): the largest
error it expects of a face's points (mean ``point_std`` over the face box's side) for the photo path to keep
the face (:class:`~fkp_classic.photo.KeypointDetector`'s ``max_point_std``). The 15-point limit is the largest
among the faces found on the upright test frames of ``benchmarks/photos.py``'s fold 0 by that fold's model
(people it never saw), 1.05 times the packaged model's own largest on the frames (every second, people it
was fitted on). The 68-point model's largest there, times the same 1.05, gives its limit: its points' errors
spread further (the jaw). ``benchmarks/results/photos_fold0/README.md`` has what the limit keeps and drops."""

TRUSTED_TYPES = (
    "fkp_classic.estimators._cascade.CascadeRegressor",
    "fkp_classic.estimators._error_model.ErrorModel",
    "fkp_classic.estimators._mean.MeanKeypoints",
    "fkp_classic.estimators._regressor.KeypointRegressor",
    "fkp_classic.estimators._ridge.KeypointRidge",
    "fkp_classic.estimators._ridge_sums.RidgeSums",
    "fkp_classic.estimators._template.MeanPatchTemplateSearch",
    "fkp_classic.features._hog.HOGFeatures",
    "fkp_classic.features._patch.PatchFeatures",
    "fkp_classic.keypoints.KeypointLayout",
    "fkp_classic.photo._hog_face_detector.HOGFaceDetector",
    "fkp_classic.photo._part_refiner.PartRefiner",
)
"""The library's own types a model file may hold, beyond those :mod:`skops.io` trusts by default (numpy
and scipy arrays and types, scikit-learn's estimators, Python's builtin containers and scalars). A file
naming any other type is refused with :class:`UntrustedModelError`."""

_ZIP = b"PK\x03\x04"
# How a pickle or a joblib file starts: protocol 2+ pickles, then joblib's zlib, gzip, bz2, xz, lzma, lz4 files.
_PICKLE_STARTS = (b"\x80", b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00", b"\x04\x22\x4d\x18")
_PACK_BELOW = 0.6  # files are compressed only when that makes them under 60% of their size (loads are faster unpacked)
_PACK_ABOVE = 2**20  # and only files over 1 MiB: a smaller one loads in milliseconds, which unpacking would add to
_MAX_UNPACKED = 4 << 30  # a model file's arrays may unpack to 4 GiB at most (a guard against zip bombs)


class ModelVersionError(ValueError):
    """A model file saved by an incompatible fkp_classic version, or not a model file at all."""


class UntrustedModelError(ModelVersionError):
    """A model file that could run code when loaded: a pickle, or a safe file naming an untrusted type."""


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
    """Write a fitted estimator in the safe model format, with the library version, atomically.

    The file is a :mod:`skops.io` zip (no code runs when it is loaded); its
    arrays keep their dtypes, so a model narrowed to float32 or float16
    stays small.

    Parameters
    ----------
    model : estimator
        Built of the types :func:`load_model` trusts: the library's own
        (:data:`TRUSTED_TYPES`), numpy's, scipy's and scikit-learn's.
    path : str or Path
        The file to write (``.skops`` by convention).
    training_data : array-like of shape (n_samples, n_pixels), optional
        The faces the model was fitted on: their fingerprints
        (:func:`face_fingerprints`) are stored, so that scoring the model on
        them can be flagged as in-sample (``fkp evaluate`` does).
    """
    fingerprints = None if training_data is None else np.unique(face_fingerprints(training_data))
    _write(model, path, fingerprints)


def _write(model, path, fingerprints, version=__version__):
    """Write the payload :func:`load_model` reads: format tag, saving version, model, fingerprints."""
    import skops.io

    payload = {"format": _FORMAT, "fkp_classic_version": version, "model": model}
    if fingerprints is not None:
        payload["training_fingerprints"] = fingerprints
    data = skops.io.dumps(payload, compression=zipfile.ZIP_STORED)
    packed = skops.io.dumps(payload, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    if len(data) > _PACK_ABOVE and len(packed) < _PACK_BELOW * len(data):  # worth unpacking at every load?
        data = packed
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def load_model(path, return_info=False, *, trusted=False):
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or Path
    return_info : bool, default=False
        Also return a dict with the saving ``fkp_classic_version`` and the
        ``training_fingerprints`` (None when not stored).
    trusted : bool, default=False
        Also load a pickle (a joblib file, as earlier fkp_classic versions
        wrote). Unpickling runs whatever code the file names: pass True only
        for a file you made yourself, and better convert it once
        (:func:`convert_model`, ``fkp convert-model OLD NEW --trust``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    UntrustedModelError
        If the file is a pickle and ``trusted`` is False, or a safe file
        naming a type outside :data:`TRUSTED_TYPES` and skops' defaults.
    ModelVersionError
        If the file is not an fkp_classic model, or was saved by a version
        whose major.minor differs from this one.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelVersionError(f"{path} is a folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP):
        payload = _load_safe(path)
    elif trusted:
        payload = _load_pickle(path)
    elif head.startswith(_PICKLE_STARTS) or head[:1] == b"c":  # b"c": a protocol 0-1 pickle naming a class
        raise UntrustedModelError(
            f"{path} is a pickle (joblib) model file, and loading a pickle runs whatever code it names: one from "
            f"someone else could delete files or take over this computer, so it is not loaded. If you made it "
            f"yourself, convert it once to the safe format with 'fkp convert-model {path} NEW.skops --trust' "
            f"(or load it with load_model(path, trusted=True) / --trust-model)"
        )
    else:
        raise ModelVersionError(
            f"{path} is not a readable fkp_classic model file (save one with fkp_classic.persistence.save_model)"
        )
    return _checked(payload, path, return_info)


def _load_safe(path):
    """The payload of a safe (skops) model file: every type it names is checked before anything is built."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        with open(path, "rb") as fh:
            with zipfile.ZipFile(fh) as zf:
                if sum(info.file_size for info in zf.infolist()) > _MAX_UNPACKED:
                    raise ModelVersionError(f"{path} unpacks to more than {_MAX_UNPACKED >> 30} GiB; not a model file")
            fh.seek(0)
            return skops.io.load(fh, trusted=list(TRUSTED_TYPES))
    except ModelVersionError:
        raise
    except UntrustedTypesFoundException:
        _check_header(path)  # a file of another version may name classes that were renamed since
        untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
        raise UntrustedModelError(
            f"{path} names the type{'s' if len(untrusted) > 1 else ''} {', '.join(untrusted)}, which an fkp_classic "
            f"model file may not hold (only the library's own, numpy's, scipy's and scikit-learn's: "
            f"fkp_classic.persistence.TRUSTED_TYPES); it is not loaded"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a damaged zip or state raises whatever its reader does
        _check_header(path)
        raise ModelVersionError(f"{path} is not a readable fkp_classic model file ({type(exc).__name__}: {exc})") from None


def _check_header(path):
    """Refuse a safe file that is no fkp_classic model, or of an incompatible version, by its schema alone."""
    try:
        with zipfile.ZipFile(path) as zf:
            schema = json.loads(zf.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise ModelVersionError(
            f"{path} is a zip but not an fkp_classic model file ({type(exc).__name__}: {exc})"
        ) from None
    content = schema.get("content") if isinstance(schema, dict) and schema.get("__class__") == "dict" else None
    fields = {key: _json_str(node) for key, node in (content or {}).items()} if isinstance(content, dict) else {}
    if fields.get("format") != _FORMAT:
        raise ModelVersionError(f"{path} is not an fkp_classic model file (save one with fkp_classic.persistence.save_model)")
    _check_version(str(fields.get("fkp_classic_version")), path)


def _json_str(node):
    """The string a skops schema node holds (JSON-encoded in the schema), or None."""
    if not (isinstance(node, dict) and node.get("__class__") == "str" and isinstance(node.get("content"), str)):
        return None
    try:
        value = json.loads(node["content"]) if node.get("is_json") else node["content"]
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _load_pickle(path):
    try:
        return joblib.load(path)
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("fkp_classic"):  # a class path of an older layout of the package
            raise ModelVersionError(
                f"{path} was saved by an fkp_classic older than 0.3 (it names {exc.name}, which no longer exists); "
                f"refit it with the installed {__version__} (e.g. fkp fit), or load it with fkp_classic<0.3"
            ) from None
        raise ModelVersionError(f"{path} needs the module {exc.name}, which is not installed") from None
    except Exception as exc:  # joblib raises many kinds for a file that is not a pickle
        raise ModelVersionError(f"{path} is not a readable fkp_classic model file ({type(exc).__name__}: {exc})") from None


def _check_version(saved, path):
    if not _compatible(saved, __version__):
        raise ModelVersionError(
            f"{path} was saved by fkp_classic {saved}, which is incompatible with the installed {__version__}; "
            f"refit it with this version"
        )


def _checked(payload, path, return_info):
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ModelVersionError(f"{path} is not an fkp_classic model file (save one with fkp_classic.persistence.save_model)")
    model = payload.get("model")
    if not any(hasattr(model, method) for method in ("predict", "decision_function", "refine")) and not callable(model):
        raise ModelVersionError(
            f"{path} holds a {type(model).__name__}, not a fitted model (save an estimator with save_model)"
        )
    saved = str(payload.get("fkp_classic_version"))
    _check_version(saved, path)
    if return_info:
        info = {"fkp_classic_version": saved, "training_fingerprints": payload.get("training_fingerprints")}
        return model, info
    return model


def convert_model(source, target, *, trusted=False):
    """Rewrite a model file (a pickle of an earlier fkp_classic) in the safe format.

    Parameters
    ----------
    source : str or Path
        A model file; a pickle is read only with ``trusted=True``.
    target : str or Path
        The safe file to write (atomically), with the source's training-set
        fingerprints.
    trusted : bool, default=False
        Whether ``source`` may be unpickled: only for a file you made
        yourself (see :func:`load_model`).

    Returns
    -------
    model : estimator
        The model written.
    """
    model, info = load_model(source, return_info=True, trusted=trusted)
    _write(model, target, info["training_fingerprints"])
    return model


def load_default_model(return_info=False, layout="kaggle15"):
    """A pretrained keypoint model shipped in the package (see :func:`load_model`).

    Parameters
    ----------
    return_info : bool, default=False
    layout : {"kaggle15", "ibug68"}, default="kaggle15"
        The 15 Kaggle keypoints (fitted on all of faces96, Kaggle's
        annotation), or the 68 iBUG points (numbered as dlib's
        ``shape_predictor_68_face_landmarks``, 0-based: jaw 0-16, brows
        17-26, nose 27-35, eyes 36-47, mouth 48-67), fitted on the 300-W
        training photos and faces96. **The 300-W annotations are licensed
        for research and non-commercial use only, and so is the 68-point
        model** (as dlib's packaged 68-point model); its ``training_note_``
        says so. The model card, ``fkp_classic/models/MODEL_CARD.md``, gives
        the data and the measured figures of both.

    The 15-point model is built by ``tools/train_default.py``, the 68-point
    one by ``tools/train_wild.py`` (a reduced-rank cascade of
    :func:`~fkp_classic.datasets.photo_cascade` on crops framed as the photo
    path frames a face); should a copy of the package lack one, the error
    says how to build it. Each comes with a ``point_std_limit_``
    (:data:`POINT_STD_LIMITS`): the photo path drops a face whose points it
    expects to be off by more (a lamp or a blur of lights the face detector
    and verifier passed).
    """
    if layout not in ("kaggle15", "ibug68"):
        raise ValueError(f"layout must be 'kaggle15' or 'ibug68', got {layout!r}")
    if layout == "ibug68":
        loaded = _load_packaged(IBUG68_MODEL, "68-point model", return_info,
                                script="tools/train_wild.py --data ../shared/data/300w --faces96 ../shared/data/faces96")
    else:
        loaded = _load_packaged(DEFAULT_MODEL, "default model", return_info)
    model = loaded[0] if return_info else loaded
    widen_model(model)
    model.point_std_limit_ = POINT_STD_LIMITS[layout]
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

    Built by ``tools/train_face_detector.py`` from faces96's crops and the packaged detector's faces and
    false alarms on video frames and the 300-W training photos, whose annotations are licensed for
    research and non-commercial use only: so is this verifier (``fkp_classic/models/MODEL_CARD.md``).
    """
    return widen_verifier(_load_packaged(DEFAULT_VERIFIER, "face verifier", script="tools/train_face_detector.py"))


def load_part_refiner():
    """The packaged part refiner (:class:`fkp_classic.photo.PartRefiner`) of iBUG's 68 points.

    Refits the eyes, brows, mouth, nose and jaw of 68-point faces on 48 x 48
    crops of each (the photo path does by default). Built by
    ``tools/train_part_refiner.py`` from the 300-W training photos, whose
    annotations are licensed for research and non-commercial use only:
    **so is this refiner** (its ``training_note_`` says so;
    ``fkp_classic/models/MODEL_CARD.md``).
    """
    return _load_packaged(PART_REFINER, "part refiner",
                          script="tools/train_part_refiner.py --data ../shared/data/300w").widen_weights()


def widen_verifier(verifier):
    """Undo the packaged verifier's compact storage: float16 arrays to float32, support vectors to float64.

    ``tools/train_face_detector.py`` narrows them to keep the file under 2 MiB (scores move by at most
    about 2e-3); libsvm predicts only from float64 support vectors.
    """
    for step in verifier:
        for name, value in list(vars(step).items()):
            if isinstance(value, np.ndarray) and value.dtype == np.float16:
                setattr(step, name, value.astype(np.float32))
        if hasattr(step, "support_vectors_"):
            step.support_vectors_ = np.ascontiguousarray(step.support_vectors_, dtype=np.float64)
    return verifier


def load_default_face_detector():
    """The packaged HOG face detector (:class:`fkp_classic.photo.HOGFaceDetector`), upright and tilted filters.

    Built by ``tools/train_face_detector.py`` from video frames and the 300-W training photos, whose
    annotations are licensed for research and non-commercial use only: so is this detector
    (``fkp_classic/models/MODEL_CARD.md``).
    """
    return _load_packaged(DEFAULT_FACE_DETECTOR, "face detector", script="tools/train_face_detector.py")


def _load_packaged(path, what, return_info=False, script="tools/train_default.py"):
    if not path.is_file():
        raise FileNotFoundError(f"the packaged {what} {path} is missing; build it with {script}")
    return load_model(path, return_info)
