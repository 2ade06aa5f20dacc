"""The ``fkp`` command line: fit, predict, submit, evaluate, show, detect, track."""

import argparse
import ast
import contextlib
import itertools
import json
import os
import sys

import numpy as np

from ._version import __version__

ESTIMATORS = ("CascadeRegressor", "KeypointRegressor", "MeanPatchTemplateSearch", "MeanKeypoints")

POINTS = {15: "kaggle15", 68: "ibug68"}

PHOTO_FIT_OPTIONS = {"points": None, "size": 96, "no_mirror": False, "n_perturbations": 1, "framing_noise": None,
                     "rotation": 0.0, "seed": 0}
"""``fkp fit``'s options of training from annotated photos -> their defaults (the parser's, and what tells
that one was given without ``--photos``)."""
"""``--points`` -> the layout of the packaged model it picks (and of the labels it reads)."""

PACKAGED_MODELS = {"default": "kaggle15", "default68": "ibug68"}
"""Packaged model names that ``--model`` takes -> their layouts."""


class UserError(Exception):
    """A mistake of the user's: printed as one line, exit status 2."""


def _user_errors():
    """The errors reported as the user's (one ``fkp: error:`` line, exit status 2); any other is a bug: a traceback.

    The command line's own :class:`UserError`; the library's errors about
    the user's files (:class:`~fkp_classic.datasets.DataError`,
    :class:`~fkp_classic.photo.PhotoError`, :class:`~fkp_classic.video.VideoError`,
    :class:`~fkp_classic.persistence.ModelVersionError`); a parameter refused by
    declarative validation (scikit-learn's ``InvalidParameterError``); and
    ``OSError``, a file that cannot be read or written.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    from .datasets import DataError
    from .persistence import ModelVersionError
    from .photo import PhotoError
    from .video import VideoError

    return UserError, DataError, PhotoError, VideoError, ModelVersionError, InvalidParameterError, OSError


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's one error format, ``fkp: error: ...``, for its own mistakes too."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"fkp: error: {message} (see '{self.prog} --help')\n")


_progress = None  # the utils.Progress of the running command (made by main: utils imports scikit-learn)


def _status(text):
    if _progress is not None:
        _progress(text)


def _done():
    if _progress is not None:
        _progress.done()




def _parse_param(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UserError(f"--param {text!r} is not of the form name=value")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _model(path, return_info=False, trusted=False):
    """The model file at ``path``, or a packaged model (:data:`PACKAGED_MODELS`).

    A pickle is loaded only when ``trusted`` (``--trust-model``): unpickling runs the code it names."""
    from .persistence import load_default_model, load_model

    if path in PACKAGED_MODELS:
        return load_default_model(return_info=return_info, layout=PACKAGED_MODELS[path])
    return load_model(path, return_info, trusted=trusted)


def _photo_model(args):
    """The keypoint model of ``fkp detect`` / ``fkp track``: ``--model``, or the packaged one of ``--points``."""
    if args.points is not None and args.model != "default":
        raise UserError("--points picks a packaged model and --model names another: give one or the other")
    if args.points is not None:
        from .persistence import load_default_model

        return load_default_model(layout=POINTS[args.points])
    return _model(args.model, trusted=args.trust_model)


def cmd_fit(args):
    import time

    from .persistence import save_model
    from .utils import check_writable

    if args.estimator not in ESTIMATORS:
        raise UserError(f"--estimator must be one of {', '.join(ESTIMATORS)}, got {args.estimator!r}")
    if args.data is None and args.photos is None:
        raise UserError("give the training data: Kaggle-format faces (DATA), annotated photos (--photos), or both")
    given = [name for name, default in PHOTO_FIT_OPTIONS.items() if getattr(args, name) != default]
    if args.photos is None and given:
        raise UserError(f"--{given[0].replace('_', '-')} is an option of training from annotated photos: give "
                        "--photos too")
    photos = None
    if args.photos is not None:
        _status(f"loading {args.photos}")
        photos = _photos_in_layout(_annotated_photos(args.photos), args.points, args.photos)
        _done()
    layout = photos.layout if photos is not None else None
    estimator = _fit_estimator(args, layout)
    check_writable(args.output, "model file")
    extra = None
    if args.data is not None:
        from .datasets import load_kaggle

        _status(f"loading {args.data}")
        data = load_kaggle(args.data, **({} if layout is None else {"layout": _registered(layout, args.data)}))
        _done()
        extra = (data.data, data.target)
        if "layout" in estimator.get_params():
            estimator.set_params(layout=data.layout)  # the flips and NME of the file's keypoints
    start = time.perf_counter()
    if photos is None:
        _status(f"fitting {args.estimator} on {len(data.data)} faces (a CascadeRegressor takes about 30 s per "
                "3400 faces)")
        estimator.fit(data.data, data.target)
        _done()
        model, n_faces = estimator, len(data.data)
    else:
        from .datasets import FRAMING_NOISE, fit_from_photos

        n_faces = photos.n_faces + (0 if extra is None else len(extra[0]))
        _status(f"cutting {args.size}x{args.size} crops of {photos.n_faces} annotated faces"
                + ("" if extra is None else f" (and {len(extra[0])} ready-cut faces)")
                + f" and fitting {args.estimator} (a CascadeRegressor takes a few minutes per 1000 faces)")
        model = fit_from_photos(
            photos, estimator=estimator, size=args.size, extra=extra, random_state=args.seed,
            mirror=not args.no_mirror, n_perturbations=args.n_perturbations, rotation=args.rotation,
            framing_noise=FRAMING_NOISE if args.framing_noise is None else tuple(args.framing_noise))
        _done()
    save_model(model, args.output, training_data=None if extra is None else extra[0])
    print(f"saved {args.estimator} fitted on {n_faces} faces in {time.perf_counter() - start:.0f} s to {args.output}")
    if getattr(model, "training_note_", None):
        print(model.training_note_)


def _fit_estimator(args, layout):
    """The estimator ``fkp fit`` fits: ``--estimator`` with ``--param``; from photos, sized and laid out for them."""
    from . import estimators

    if photos_cascade := (args.photos is not None and args.estimator == "CascadeRegressor"):
        from .datasets import photo_cascade

        # iBUG's 68 close points take the dense cascade settings; other schemes the cascade's defaults
        estimator = (photo_cascade(args.size, layout) if layout.name == "ibug68" else
                     estimators.CascadeRegressor(image_shape=(args.size, args.size), layout=layout))
    else:
        estimator = getattr(estimators, args.estimator)()
    params = estimator.get_params()
    if "n_jobs" in params:
        estimator.set_params(n_jobs=args.jobs)
    if "verbose" in params:
        estimator.set_params(verbose=1)  # a line per cascade stage: fits take tens of seconds
    if args.photos is not None:
        if "image_shape" in params:
            estimator.set_params(image_shape=(args.size, args.size))
        if "layout" in params:
            estimator.set_params(layout=layout)
        if photos_cascade and not args.no_mirror:
            estimator.set_params(flip=False)  # the photos are mirrored: the cascade need not mirror them again
    user = dict(_parse_param(p) for p in args.param or [])
    try:
        estimator.set_params(**user)
        estimator._validate_params()  # scikit-learn's declarative check, before any data is read
    except ValueError as exc:
        raise UserError(f"--param: {exc}") from None
    return estimator


def _annotated_photos(path):
    """The annotated photos at ``path``: a 300-W / iBUG folder, a dlib training XML or a CSV of photos and points."""
    from pathlib import Path

    from .datasets import load_300w, load_dlib_xml, load_photo_points

    p = Path(path)
    if p.is_dir():
        return load_300w(p)
    if not p.exists():
        raise UserError(f"--photos {path}: no such file or folder")
    if p.suffix.lower() == ".xml":
        return load_dlib_xml(p)
    if p.suffix.lower() == ".csv":
        return load_photo_points(p)
    raise UserError(f"--photos {path}: expected a folder of photos and .pts files (300-W / iBUG), a dlib training "
                    "XML (.xml) or a CSV of photos and named points (.csv)")


def _photos_in_layout(photos, points, source):
    """``photos`` with their points in the layout ``--points`` names (iBUG's 68 map to Kaggle's 15), or as annotated."""
    from .datasets import DataError

    if points is None:
        return photos
    try:
        return photos.in_layout(POINTS[points])
    except DataError as exc:
        raise UserError(f"--points {points}: in {source}, {exc}") from None


def _registered(layout, source):
    """The registered name of ``layout`` (for reading Kaggle-format faces in it), or a user error naming ``source``."""
    if layout.name not in POINTS.values():
        raise UserError(f"{source}: Kaggle-format faces come with Kaggle's 15 or iBUG's 68 points; the annotated "
                        f"photos' {layout.n_keypoints} points cannot be read from it")
    return layout.name


def _keypoints(model, X, source, return_std=False):
    """``model.predict(X)``, refused unless it gives one row of keypoint pairs per face in the model's layout;
    with ``return_std``, the predicted error scales of the coordinates follow them in each row."""
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != X.shape[1]:
        shape = getattr(model, "image_shape_", None)
        raise UserError(
            f"the model in {source} takes faces of {expected} pixels" + (f" ({shape[0]}x{shape[1]})" if shape else "")
            + f", but the data's faces have {X.shape[1]} (96x96): fit a model on faces of this size"
        )
    if not return_std:
        return _checked_keypoints(model.predict(X), model, X, source)
    if getattr(model, "error_model_", None) is None:
        raise UserError(
            f"the model in {source} ({type(model).__name__}) has no error model for --std (fitted with "
            "uncertainty=False, the KeypointRegressor default, or by an older version): refit it with fkp fit "
            "(--param uncertainty=True for a KeypointRegressor), or drop --std"
        )
    pred, std = model.predict(X, return_std=True)
    return np.hstack([_checked_keypoints(pred, model, X, source), _checked_keypoints(std, model, X, source)])


def _checked_keypoints(pred, model, X, source):
    from .photo import model_layout

    pred = np.asarray(pred)
    layout = model_layout(model)[0]
    if pred.ndim != 2 or len(pred) != len(X) or pred.shape[1] != 2 * layout.n_keypoints:
        raise UserError(
            f"the model in {source} ({type(model).__name__}) predicts an array of shape {pred.shape} for {len(X)} "
            f"faces, not keypoints: a keypoint model gives ({len(X)}, {2 * layout.n_keypoints})"
        )
    if not np.issubdtype(pred.dtype, np.number):
        raise UserError(f"the model in {source} predicts {pred.dtype} values, not keypoint coordinates")
    return pred.astype(np.float64)


def _predict_test(args):
    from .datasets import load_kaggle_test
    from .utils import check_writable

    check_writable(args.output)
    model = _model(args.model, trusted=args.trust_model)
    test = load_kaggle_test(args.test)
    _status(f"predicting {len(test.data)} faces")
    pred = _keypoints(model, test.data, args.model)
    _done()
    return test, pred, model


def cmd_predict(args):
    from pathlib import Path

    from .datasets import iter_kaggle_test
    from .photo import model_layout
    from .utils import check_writable
    from .utils._csv_rows import CsvRows, read_done_ids

    check_writable(args.output)
    out = Path(args.output)
    if args.chunk_size < 1:
        raise UserError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    if out.exists() and not args.resume:
        raise UserError(f"{out} exists: add --resume to continue it, or remove it to start over")
    model = _model(args.model, trusted=args.trust_model)
    columns = model_layout(model)[0].columns
    header = ["ImageId", *columns, *([f"{c}_std" for c in columns] if args.std else [])]
    try:
        done = read_done_ids(out, header) if args.resume else np.empty(0, np.int64)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    n = skipped = 0
    # Rows are read, predicted and written a chunk at a time: memory holds one chunk whatever the file's size.
    with CsvRows(out, header, append=args.resume) as rows:
        for chunk in iter_kaggle_test(args.test, chunk_size=args.chunk_size):
            new = ~np.isin(chunk.image_ids, done)
            skipped += int((~new).sum())
            if new.any():
                rows.write(chunk.image_ids[new], _keypoints(model, chunk.data[new], args.model, args.std))
                n += int(new.sum())
            _status(f"{n} faces predicted and written to {out}" + (f", {skipped} already there" if skipped else ""))
    _done()
    print(f"wrote keypoints of {n} faces to {out}" + (f"; {skipped} were already there" if args.resume else ""))


def cmd_submit(args):
    from .datasets import write_submission

    test, pred, _ = _predict_test(args)
    submission = write_submission(pred, image_ids=test.image_ids, lookup=args.lookup, path=args.output)
    print(f"wrote {len(submission)} rows to {args.output}")


def cmd_evaluate(args):
    from .datasets import load_kaggle
    from .metrics import ced_auc, failure_rate, nme, per_keypoint_rmse, rmse
    from .persistence import face_fingerprints
    from .photo import model_layout

    model, info = _model(args.model, return_info=True, trusted=args.trust_model)
    layout = model_layout(model)[0]
    data = load_kaggle(args.data, layout=layout)  # the labels of the model's keypoints
    _status(f"predicting {len(data.data)} faces")
    pred = _keypoints(model, data.data, args.model)
    _done()
    if pred.shape[1] != data.target.shape[1]:
        raise UserError(f"the model predicts {pred.shape[1] // 2} keypoints but {args.data} labels {data.target.shape[1] // 2}")
    print(f"RMSE over {len(data.data)} faces: {rmse(data.target, pred):.3f} px")
    if layout.eyes is None:
        print(f"NME: the model's {layout.n_keypoints}-point layout declares no eyes to normalise by")
        errors = np.zeros(0)
    else:
        errors = nme(data.target, pred, layout=layout)
        errors = errors[~np.isnan(errors)]
    if len(errors):
        eyes = " to ".join(group[0] if len(group) == 1 else f"the mean of {', '.join(group)}" for group in layout.eyes)
        print(f"NME (over the eye distance: {eyes}) over {len(errors)} faces: {errors.mean():.4f}; AUC@0.08 "
              f"{ced_auc(errors, threshold=0.08):.3f}, AUC@0.10 {ced_auc(errors, threshold=0.10):.3f}; failures (NME > 0.10) "
              f"{failure_rate(errors, threshold=0.10):.1%}")
    seen = info["training_fingerprints"]
    if seen is not None:
        n_seen = int(np.isin(face_fingerprints(data.data), seen).sum())
        if n_seen:
            print(f"fkp: warning: {n_seen} of {len(data.data)} faces were in the model's training set, so these scores "
                  f"are in-sample and say little about unseen faces; score people the model never saw "
                  f"(benchmarks/run.py cross-validates by person)", file=sys.stderr)
    print("| keypoint | RMSE px |\n|---|---|")
    for name, value in zip(layout.names, per_keypoint_rmse(data.target, pred)):
        print(f"| {name} | {value:.3f} |")


def cmd_show(args):
    from .datasets import DataError, load_kaggle, load_kaggle_test
    from .plotting import face_grid
    from .utils import atomic_write, check_writable

    if args.n < 1:
        raise UserError(f"-n must be at least 1, got {args.n}")
    check_writable(args.output)

    try:
        data = load_kaggle(args.data)
        truth = data.target
    except DataError as training_error:  # a test file has no labels to draw
        try:
            data, truth = load_kaggle_test(args.data), None
        except DataError:
            raise training_error from None  # neither: the training file's problem is the one to name
    n = min(args.n, len(data.data))
    pred = _keypoints(_model(args.model, trusted=args.trust_model), data.data[:n], args.model) if args.model is not None else None
    cols = min(n, 8, int(np.ceil(np.sqrt(n))))  # about square: 16 faces in 4 rows of 4
    fig = face_grid(data.images[:n], true=None if truth is None else truth[:n], pred=pred, n_cols=cols, size=2.5)
    with atomic_write(args.output, "wb") as fh:  # 250 px a face: each pixel of a 96x96 face about 2.6 px
        fig.savefig(fh, format="png", dpi=100)
    legend = ", ".join(what for what, shown in (("green: true", truth is not None), ("red: predicted", pred is not None)) if shown)
    print(f"drew {n} faces to {args.output}" + (f" ({legend})" if legend else ""))


def _face_detector(args):
    """The face detector ``--face-detector`` names, scanning from ``--min-size``."""
    from .photo import as_face_detector

    if args.min_size < 8:
        raise UserError(f"--min-size must be at least 8 pixels, got {args.min_size}")
    return as_face_detector(args.face_detector, min_size=args.min_size)


STDOUT = "-"
"""The output name that means standard output (``--json -``, ``--jsonl -``, ``--csv -``)."""

STDIN = "-"
"""The input name that means standard input (``fkp detect -``, ``fkp track -``)."""


def _stdout_outputs(args, *names):
    """The options among ``names`` that write to standard output; refused when two would share it."""
    options = [name for name in names if getattr(args, name.lstrip("-").replace("-", "_")) == STDOUT]
    if len(options) > 1:
        raise UserError(f"{' and '.join(options)} both name standard output (-): give one of them a file")
    return options


def _messages(data_on_stdout):
    """Where the command's own lines go: stderr when stdout carries data, so the data stays parseable."""
    return sys.stderr if data_on_stdout else sys.stdout


def _record(record):
    """A photo's record as the command line writes it: each face's analyses under every ``--analyse`` name,
    None for those not asked for, so every record has the same keys."""
    from .analysis import ANALYSERS

    if record["faces"] is not None:
        record["faces"] = [{**{k: v for k, v in face.items() if k not in ANALYSERS},
                            **{name: face.get(name) for name in ANALYSERS}} for face in record["faces"]]
    return record


def cmd_detect(args):
    import glob
    from pathlib import Path

    from .photo import Face, read_photo
    from .photo._collection import JsonLinesWriter, detect_photos, photo_paths, read_done
    from .plotting import image_format, save_annotated
    from .utils import atomic_write, check_writable

    to_stdout = _stdout_outputs(args, "--json", "--jsonl")
    say = _messages(to_stdout)
    for out in filter(None, (args.output, args.json, args.jsonl)):
        if out != STDOUT:
            check_writable(out)
    if args.output:
        try:
            image_format(args.output)  # refuse an unknown suffix before any photo is read
        except ValueError as exc:
            raise UserError(str(exc)) from None
    face_detector = _face_detector(args)
    if args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {args.jobs}")
    if args.resume and not args.jsonl:
        raise UserError("--resume continues a --jsonl output; give --jsonl FILE")
    if args.resume and args.jsonl == STDOUT:
        raise UserError("--resume continues a --jsonl file, and --jsonl - writes to standard output: give --jsonl FILE")
    if args.jsonl and args.jsonl != STDOUT and Path(args.jsonl).exists() and not args.resume:
        raise UserError(f"{args.jsonl} exists: add --resume to continue it, or remove it to start over")
    try:
        done, failed_before = read_done(args.jsonl) if args.resume else (set(), 0)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        paths = (p for p in photo_paths(args.photo) if p not in done)
        first = next(paths, None)
    except OSError as exc:
        raise UserError(f"cannot read the list of photos: {exc}") from None
    if first is None and not done:
        raise UserError(f"no photos in {' '.join(args.photo)}")
    name = args.photo[0]
    single = len(args.photo) == 1 and not (Path(name).is_dir() or name.startswith("@")
                                           or (glob.has_magic(name) and not Path(name).exists()))
    if args.max_faces is not None and args.max_faces < 1:
        raise UserError(f"--max-faces must be at least 1, got {args.max_faces}")
    params = dict(model=_photo_model(args), face_detector=face_detector,
                  verifier=None if args.no_verifier else "default", refiner=None if args.no_refine else "default",
                  min_score=args.min_score, max_point_std=None if args.keep_doubted else "auto",
                  max_faces=args.max_faces, rotations=_rotations(args), analysers=_analysers(args))
    if args.chips:
        Path(args.chips).mkdir(parents=True, exist_ok=True)
    piped = _piped_photo(args, params)  # "-": the photo on standard input, read once, here
    results, failed, n = [], [], 0
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_dask_client(args.scheduler)) if args.scheduler and not piped else None
        records = [piped[0]] if piped else detect_photos(
            itertools.chain([first] if first is not None else [], paths), args.jobs, client, **params)
        lines = None
        if args.jsonl:
            target = sys.stdout if args.jsonl == STDOUT else args.jsonl
            lines = stack.enter_context(JsonLinesWriter(target, append=args.resume))
        for record in records:  # a bad photo is reported and skipped: the others' results are still written
            record = _record(record)
            path, n = record["photo"], n + 1
            if lines:
                lines.write(record)
                _status(f"{n} photo(s) done, {len(failed)} failed: {path}")
            if args.json:
                results.append(record)
            if record["error"] is not None:
                failed.append((path, record["error"]))
                if not lines:
                    print(f"{path}: not processed: {record['error']}", file=say)
                continue
            if not lines:
                frames = record["frames_in_file"]
                print(f"{path}: {len(record['faces'])} face(s)" + (f" (first of its {frames} frames)" if frames > 1 else ""),
                      file=say)
            if args.output or args.chips:  # the photo was read where it was processed (maybe another process)
                faces = [Face.from_dict(face) for face in record["faces"]]
                photo = piped[1] if piped else read_photo(path)[0]
                if args.output:
                    save_annotated(photo, faces, path=args.output if single else _numbered(args.output, path),
                                   error_circles=not args.no_error_circles, contours=not args.no_contours)
                if args.chips:
                    _save_chips(photo, faces, "stdin" if piped else path, args)
    _done()
    if args.json == STDOUT:
        json.dump(results, sys.stdout, indent=1)
        sys.stdout.write("\n")
        sys.stdout.flush()
    elif args.json:
        with atomic_write(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    if lines:
        print(f"{n} photo(s) done ({len(failed)} failed) and written to "
              + ("standard output" if args.jsonl == STDOUT else args.jsonl)
              + (f"; {len(done)} were already there ({failed_before} failed)" if args.resume else ""), file=say)
    if single and failed:
        raise UserError(failed[0][1])
    if failed_before and not failed:
        raise UserError(f"{failed_before} photo(s) recorded in {args.jsonl} by an earlier run could not be processed")
    if failed:
        raise UserError(f"{len(failed)} of {n} photo(s) could not be processed ({', '.join(p for p, _ in failed[:5])}); "
                        f"the first: {failed[0][1]}" + (" (each error is in the output)" if args.json or args.jsonl else ""))


def _piped_photo(args, params):
    """``fkp detect -``: the record of the photo piped to standard input and the photo (None if not read); no
    other input then. None when the photos are files."""
    from .photo import KeypointDetector, PhotoError, read_photo
    from .photo._collection import photo_record

    if STDIN not in args.photo:
        return None
    if len(args.photo) > 1:
        raise UserError("- reads one photo from standard input: give it alone, or give files")
    try:
        image, n_frames = read_photo(STDIN)
        faces = KeypointDetector(**params).detect(image, name="standard input")
    except (PhotoError, ValueError, OSError) as exc:  # as a file's: an error record, then one error line
        return photo_record(STDIN, error=str(exc)), None
    return photo_record(STDIN, faces, frames_in_file=n_frames), image


def _dask_client(address):
    """A ``dask.distributed.Client`` of the scheduler at ``address``, or a one-line error."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise UserError("--scheduler runs on a Dask cluster, which needs Dask: pip install 'fkp_classic[dask]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _number(value, fmt):
    """A CSV cell: ``value`` formatted, or empty when unknown."""
    return "" if value is None else format(value, fmt)


class _PerSecond:
    """``fkp track``'s summary without outputs: one line per second of video as it ends (frames, faces, tracks;
    live, also the frames dropped and the mean and largest latency from capture to result)."""

    def __init__(self, stream, live=False):
        self.stream, self.live, self.second = stream, live, None
        self._reset()
        print(f"{'second':>6}  {'frames':>6}  " + (f"{'dropped':>7}  " if live else "") + f"{'faces/frame':>11}  "
              + (f"{'latency_ms':>10}  {'max_ms':>6}  " if live else "") + "tracks", file=stream)

    def _reset(self):
        self.frames, self.faces, self.tracks, self.dropped, self.latencies = 0, 0, set(), 0, []

    def add(self, time_s, faces, skipped=0, latency_ms=None):
        second = int(time_s + 1e-9)  # index / fps lands a hair below the whole second
        if second != self.second:
            self.flush()
            self.second = second
        self.frames, self.faces = self.frames + 1, self.faces + len(faces)
        self.tracks.update(face.track_id for face in faces)
        self.dropped += skipped
        if latency_ms is not None:
            self.latencies.append(latency_ms)

    def flush(self):
        if self.frames:
            tracks = ",".join(map(str, sorted(self.tracks))) or "-"
            _done()  # the progress line (on a terminal) cleared first
            live = (f"{self.dropped:>7}  ", f"{np.mean(self.latencies):>10.0f}  {max(self.latencies):>6.0f}  ") \
                if self.live else ("", "")
            print(f"{self.second:>6}  {self.frames:>6}  {live[0]}{self.faces / self.frames:>11.2f}  {live[1]}{tracks}",
                  file=self.stream)
        self._reset()


def cmd_track(args):
    import csv
    import time

    from .plotting import draw_faces
    from .utils import atomic_write, check_writable
    from .utils._safe_csv import safe_row
    from .video import FaceTracker, VideoWriter, video_format

    to_stdout = _stdout_outputs(args, "--csv")
    say = _messages(to_stdout)
    for out in filter(None, (args.output, args.csv)):
        if out != STDOUT:
            check_writable(out)
    if args.output:
        video_format(args.output)  # refuse an unknown suffix before the video is read
    face_detector = _face_detector(args)
    for name in ("detect_every", "check_every"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if (args.video is None) == (args.camera is None):
        raise UserError("give a video (a file, a URL, or - for standard input) or --camera: one of them")
    preview = _preview(args)  # before the video is opened: no display, one line at once
    stream = args.camera is not None or args.video == STDIN or "://" in args.video
    video = None if stream else _open_video(args)  # a file's problems said before the model loads
    from .analysis import BlinkDetector, flat_analyses

    analysers = _analysers(args)
    if args.max_faces is not None and args.max_faces < 1:
        raise UserError(f"--max-faces must be at least 1, got {args.max_faces}")
    tracker = FaceTracker(
        _photo_model(args), face_detector=face_detector, min_score=args.min_score,
        max_point_std=None if args.keep_doubted else "auto", detect_every=args.detect_every,
        check_every=args.check_every, smooth=not args.no_smoothing, max_faces=args.max_faces, analysers=analysers,
        rotations=_rotations(args), refiner=None if args.no_refine else "default",
    )
    if video is None:
        video = _open_video(args)  # a stream, when the tracker is ready: no backlog of frames to drop at once
    names = tracker.layout.names
    analysed = [a.name for a in analysers if a.name != "chip"]  # the chip's transform is not a column
    blinks = {} if "eyes" in analysed else None  # one BlinkDetector per track
    live = ["skipped", "latency_ms"] if video.live else []  # frames dropped before the row's, capture to result
    header = ["frame", "time_s", *live, "track_id", "box_x", "box_y", "box_w", "box_h", "score", "expected_nme"] + [
        f"{n}_{axis}" for n in names for axis in ("x", "y")]
    analysis_columns = None if analysed else []  # with analysers: from the first face, in their own order
    total = f"/{video.n_frames}" if video.n_frames else ""
    summary = None if (args.output or args.csv) else _PerSecond(sys.stdout, video.live)  # say what is found
    latencies, stopped = [], None
    with contextlib.ExitStack() as stack:
        stack.callback(video.close)  # a stream or camera not read to its end
        stop = stack.enter_context(_stop_on_interrupt(video.live or preview is not None))
        if preview is not None:
            stack.callback(preview.close)
        table = None
        if args.csv == STDOUT:
            table = csv.writer(sys.stdout)
        elif args.csv:
            table = csv.writer(stack.enter_context(atomic_write(args.csv, "w", newline="")))
        if table and not analysed:
            table.writerow(safe_row(header))  # point names come from the model file: never a spreadsheet formula
        writer = stack.enter_context(VideoWriter(args.output, fps=video.fps)) if args.output else None
        n_frames = frames_with_face = 0
        ids = set()
        drawn = None  # the last annotated frame: in live mode it stands for the dropped ones after it
        frames = video.frames()
        stack.callback(frames.close)  # live: the reader thread stops with it
        broken = []  # live: the source's error after its first frame (a stream cut, a camera unplugged) ends the run
        for frame, index, time_s, captured_at, skipped in _ended_by_error(frames, broken) if video.live else frames:
            faces = tracker.update(frame, time_s, name=f"frame {index}")
            latency_ms = 1000 * (time.perf_counter() - captured_at)
            latencies.append(latency_ms)
            n_frames, frames_with_face = n_frames + 1, frames_with_face + bool(faces)
            ids.update(face.track_id for face in faces)
            if summary:
                summary.add(time_s, faces, skipped, latency_ms)
            for face in faces:
                if blinks is not None:
                    detector = blinks.setdefault(face.track_id, BlinkDetector(fps=video.fps or tracker.fps))
                    detector.update(face, time=time_s)
                if table:
                    extra = []
                    if analysed:
                        flat = flat_analyses(face, analysed)
                        if analysis_columns is None:
                            analysis_columns = list(flat) + (["blinking"] if blinks is not None else [])
                            table.writerow(safe_row(header + analysis_columns))  # names come from the model file
                        flat["blinking"] = int(detector.closed) if blinks is not None else None
                        extra = ["" if flat.get(c) is None else f"{flat[c]:.4g}" for c in analysis_columns]
                    table.writerow(safe_row([index, f"{time_s:.3f}"] + ([skipped, f"{latency_ms:.1f}"] if live else [])
                                            + [face.track_id] + [f"{v:.2f}" for v in face.box]
                                            + [_number(face.score, ".4g"), _number(face.expected_nme, ".4g")]
                                            + [f"{v:.2f}" for v in face.points.ravel()] + extra))
            if writer or preview:
                image = np.asarray(draw_faces(frame, faces, error_circles=not args.no_error_circles,
                                              contours=not args.no_contours))
                if writer:
                    for _ in range(skipped if drawn is not None else 0):
                        writer.write(drawn)  # the video keeps the source's timing
                    writer.write(image)
                    drawn = image
                if preview:
                    try:
                        preview.show(image)
                    except RuntimeError as exc:
                        raise UserError(f"--show: {exc}") from None
            _status(f"frame {index + 1}{total}: {len(faces)} face(s)")
            if stop.is_set() or (preview and preview.closed):
                stopped = "Ctrl-C" if stop.is_set() else "the preview window closed"
                break
        if table and analysis_columns is None:  # analysers but no face at all: the header alone
            table.writerow(safe_row(header))
    if broken:
        print(f"fkp: warning: {broken[0]}; the run ends there, its outputs hold the frames before", file=sys.stderr)
    if summary:
        summary.flush()
    if args.csv == STDOUT:
        sys.stdout.flush()
    _done()
    wrote = [out if out != STDOUT else "the CSV to standard output" for out in (args.output, args.csv) if out]
    print(f"{args.video if video.kind == 'file' else video.name}: "
          + (f"stopped by {stopped} after " if stopped else "")
          + f"{n_frames} frames, a face on {frames_with_face} ({frames_with_face / max(n_frames, 1):.0%}), "
          f"{len(ids)} track(s); face detector run on {tracker.n_detections} frames"
          + (f"; live: {video.n_dropped} frames dropped, latency from capture to result {np.mean(latencies):.0f} ms "
             f"on average, {max(latencies):.0f} ms at most" if video.live and latencies else "")
          + "".join(f"; wrote {out}" for out in wrote), file=say)
    for track_id, detector in sorted((blinks or {}).items()):
        rate = detector.blinks_per_minute
        print(f"track {track_id}: {len(detector.events_)} blink(s) in {detector.elapsed_:.1f} s"
              + (f" ({rate:.1f} a minute)" if rate is not None and np.isfinite(rate) else ""), file=say)


def _ended_by_error(frames, errors):
    """``frames``, ended by their source's error after the first one as by their end; the error goes to ``errors``."""
    from .video import VideoError

    started = False
    try:
        for item in frames:
            started = True
            yield item
    except VideoError as exc:
        if not started:
            raise
        errors.append(exc)


def _open_video(args):
    """The video ``fkp track`` reads: a file, a URL, standard input (-) or ``--camera``, live as ``--live`` says."""
    from .video import read_video

    camera = None if args.camera is None else int(args.camera) if args.camera.isdigit() else args.camera
    return read_video(args.video, camera=camera, live=args.live)


def _preview(args):
    """``--show``'s window (opened at the first frame), or a one-line error saying why none can open here."""
    if not args.show:
        return None
    from .video._preview import Preview

    try:
        return Preview(f"fkp track {args.video or f'--camera {args.camera}'}")
    except RuntimeError as exc:
        raise UserError(f"--show: {exc}") from None


@contextlib.contextmanager
def _stop_on_interrupt(enabled):
    """An event the first Ctrl-C sets (when ``enabled``): the run stops after its frame and writes its outputs;
    a second Ctrl-C interrupts at once."""
    import signal
    import threading

    stop = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        stop.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _analysers(args):
    """The per-face analysers ``--analyse`` names (none by default), or a one-line error."""
    from .analysis import make_analysers

    if not args.analyse:
        return ()
    try:
        return make_analysers(args.analyse)
    except ValueError as exc:
        raise UserError(f"--analyse: {exc}") from None


def _save_chips(photo, faces, path, args):
    """Each face of a photo cut out and aligned (``--chips DIR``): ``<photo stem>_<face>.png``."""
    from pathlib import Path

    from PIL import Image

    from .analysis import face_chips
    from .utils import atomic_write

    size = args.chip_size or (112 if args.chip_template == "arcface" else 150)
    for i, chip in enumerate(face_chips(photo, faces, size=size, template=args.chip_template)):
        with atomic_write(Path(args.chips) / f"{Path(path).stem}_{i}.png", "wb") as fh:
            Image.fromarray(chip).save(fh, format="PNG")


def cmd_convert_model(args):
    from .persistence import convert_model

    model = convert_model(args.old, args.new, trusted=args.trust)
    print(f"wrote {type(model).__name__} from {args.old} to {args.new} in the safe model format")


def _numbered(output, photo):
    from pathlib import Path

    out = Path(output)
    return out.with_name(f"{out.stem}_{Path(photo).stem}{out.suffix}")


_ANALYSE = ("per-face analyses to run, comma-separated: pose (yaw, pitch, roll), eyes (openness, brow raise), "
            "mouth (openness, smile width, lip corner height), chip (the aligned chip's transform)")
_DATA = "Kaggle-format data: training.csv, training.zip, the competition zip, or a folder holding them"
_TEST = "Kaggle-format test faces: test.csv, test.zip, the competition zip, or a folder holding them"
_MODEL = ("model file written by 'fkp fit' (or save_model), or a packaged model: 'default' (15 Kaggle points), "
          "'default68' (68 iBUG points)")
_TRUST = ("also load a pickle (joblib) model file, as earlier fkp_classic versions wrote: loading a pickle runs the code "
          "it names, so only for a file you made yourself (better: fkp convert-model OLD NEW --trust, once)")


_DETECT_RECORDS = """\
Records: one per photo (--json: a JSON list of them; --jsonl: one per line),
every key always there, null when unknown; "schema" numbers this format:
  {"schema": 2, "photo": PATH, "error": null, or why the photo was not read,
   "frames_in_file": N, "faces": [FACE, ...]}   (these two null on error)
  FACE = {"box": [x, y, w, h], "keypoints": {NAME: [x, y]},
   "score": the face's score (null with --no-verifier),
   "point_std": {NAME: [std_x, std_y]} (pixels), "expected_nme": the NME its
   points are expected to have (both null without an error model),
   "track_id": null, "angle": the face's in-plane angle (degrees,
   counterclockwise), "pose", "eyes", "mouth", "chip": --analyse's values
   (null when not asked for)}
With - (standard output) for --json or --jsonl, standard output carries the
records alone; the lines about each photo go to stderr.
"""


def build_parser():
    parser = _Parser(
        prog="fkp", description="Facial keypoints with classical computer vision.",
        epilog="Every command has --help. Mistakes give one 'fkp: error:' line and exit status 2.",
    )
    parser.add_argument("--version", action="version", version=f"fkp_classic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fit", help="fit an estimator on Kaggle training data or annotated photos and save it",
                       description="Fit an estimator on Kaggle-format training faces, on annotated photos (--photos: "
                                   "crops framed as 'fkp detect' frames a face, mirrored and perturbed), or both.")
    p.add_argument("data", nargs="?", help=_DATA + " (with --photos: faces added to the photos' crops, read in the "
                   "photos' layout)")
    p.add_argument("--photos", help="annotated photos: a 300-W / iBUG folder (a photo and a .pts file per face), a dlib "
                   "training XML (imglab's), or a CSV of photos and named points (file, <name>_x, <name>_y)")
    p.add_argument("--points", type=int, choices=sorted(POINTS), default=PHOTO_FIT_OPTIONS["points"],
                   help="with --photos: the model's keypoints, 68 (iBUG's) or 15 (Kaggle's, mapped from iBUG's 68); "
                        "default: the photos' own")
    p.add_argument("--size", type=int, default=PHOTO_FIT_OPTIONS["size"],
                   help="with --photos: side of the crops in pixels (default %(default)s), "
                   "the model's image_shape")
    p.add_argument("--no-mirror", action="store_true", help="with --photos: no mirrored photos")
    p.add_argument("--n-perturbations", type=int, default=PHOTO_FIT_OPTIONS["n_perturbations"],
                   help="with --photos: crops per face framed with detector-like noise, besides the exactly framed "
                        "one (default %(default)s)")
    p.add_argument("--framing-noise", type=float, nargs=2, metavar=("SHIFT", "LOG_SCALE"),
                   default=PHOTO_FIT_OPTIONS["framing_noise"],
                   help="with --photos: standard deviations of the perturbed crops' centre shift (share of the side) "
                        "and log scale (default: the packaged HOG detector's, measured on 300-W)")
    p.add_argument("--rotation", type=float, default=PHOTO_FIT_OPTIONS["rotation"],
                   help="with --photos: standard deviation of the perturbed crops' in-plane turn in degrees "
                        "(default %(default)s)")
    p.add_argument("--seed", type=int, default=PHOTO_FIT_OPTIONS["seed"],
                   help="with --photos: seed of the perturbations (default %(default)s)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.skops: the safe model format)")
    p.add_argument("--estimator", default="CascadeRegressor",
                   help=f"one of {', '.join(ESTIMATORS)} (default: CascadeRegressor, the most accurate)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="estimator parameter, e.g. --param alpha=50 (repeatable; values are Python literals)")
    p.add_argument("--jobs", type=int, default=-1, help="threads for estimators that use them (default -1: all cores)")
    p.set_defaults(func=cmd_fit)
    p = sub.add_parser("predict", help="predict test faces; a CSV with ImageId and the model's keypoint columns")
    p.add_argument("model", help=_MODEL)
    p.add_argument("test", help=_TEST)
    p.add_argument("-o", "--output", required=True, help="CSV to write: ImageId, then <name>_x, <name>_y per keypoint "
                   "(rows are written as they are predicted)")
    p.add_argument("--resume", action="store_true", help="continue an output a stopped run left: skip the faces in it")
    p.add_argument("--chunk-size", type=int, default=1000, help="faces read and predicted at a time (default 1000)")
    p.add_argument("--std", action="store_true", help="also write each coordinate's predicted error scale (standard "
                   "deviation, pixels) as <name>_x_std, <name>_y_std columns after the keypoints")
    p.add_argument("--trust-model", action="store_true", help=_TRUST)
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("submit", help="write a Kaggle submission (RowId,Location)")
    p.add_argument("model", help=_MODEL)
    p.add_argument("test", help=_TEST)
    p.add_argument("lookup", help="IdLookupTable.csv (or the zip/folder holding it)")
    p.add_argument("-o", "--output", required=True, help="submission CSV to write (RowId,Location)")
    p.add_argument("--trust-model", action="store_true", help=_TRUST)
    p.set_defaults(func=cmd_submit)
    p = sub.add_parser("evaluate", help="RMSE, NME, AUC and failure rate of a model on labelled data",
                       description="RMSE, per-keypoint RMSE, NME, AUC@0.08/0.10 and failure rate of a model on "
                                   "labelled faces (the 68 iBUG points of training_meta.csv for a 68-point model); "
                                   "warns when they were in its training set.")
    p.add_argument("model", help=_MODEL)
    p.add_argument("data", help=_DATA)
    p.add_argument("--trust-model", action="store_true", help=_TRUST)
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("show", help="draw faces with true and/or predicted keypoints")
    p.add_argument("data", help=_DATA + " (or test faces: no true points then)")
    p.add_argument("--model", help="also draw this model's predictions (a model file or 'default')")
    p.add_argument("-n", type=int, default=16, help="number of faces (default 16)")
    p.add_argument("-o", "--output", required=True, help="PNG to write: the faces, about 250 px each, with green "
                   "dots for true points, red crosses for predicted ones and that key under them")
    p.add_argument("--trust-model", action="store_true", help=_TRUST)
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("detect", help="find faces and keypoints in photos", epilog=_DETECT_RECORDS,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Find faces and their keypoints in photos.")
    p.add_argument("photo", nargs="+", help="photo files (any format Pillow reads; an animation's first frame), "
                   "folders (their photos), quoted globs ('shots/*.jpg') or @list.txt (one path per line); a photo "
                   "that cannot be read is reported and the others are still done (exit status 2); - alone: "
                   "one photo piped to standard input")
    p.add_argument("--model", default="default", help=_MODEL + " (default: the packaged model)")
    p.add_argument("--points", type=int, choices=sorted(POINTS), default=None,
                   help="the packaged model's keypoints: 15 (Kaggle's, the default) or 68 (iBUG's, numbered as "
                        "dlib's 68-point model)")
    p.add_argument("-o", "--output", help="annotated image at the photo's size (.png, .jpg, ...); with several "
                   "photos, one per photo named <stem>_<photo stem><suffix>")
    p.add_argument("--json", metavar="FILE", help="write a JSON list of the photos' records (below) at the end; "
                   "- for standard output")
    p.add_argument("--no-error-circles", action="store_true",
                   help="with -o, leave out the circles of 1.645 predicted standard deviations (90%%) around the points")
    p.add_argument("--no-contours", action="store_true",
                   help="with -o, draw the points without the lines joining them (jaw, brows, nose, eyes, lips)")
    p.add_argument("--min-size", type=int, default=40, help="smallest face side searched, in pixels (default 40)")
    p.add_argument("--face-detector", choices=("hog", "lbp"), default="hog",
                   help="hog: the packaged HOG detector (default); lbp: scikit-image's LBP cascade")
    p.add_argument("--min-score", type=float, default=0.3,
                   help="lowest face score kept: the verifier's plus half the HOG detector's above its threshold "
                   "(default 0.3; lower keeps more doubtful faces)")
    p.add_argument("--no-verifier", action="store_true", help="keep every detected face, unverified")
    p.add_argument("--keep-doubted", action="store_true", help=_KEEP_DOUBTED)
    p.add_argument("--no-refine", action="store_true", help=_NO_REFINE)
    p.add_argument("--max-faces", type=int, default=None, help="keep at most this many faces per photo, the surest "
                   "(faces are listed surest first)")
    p.add_argument("--any-angle", action="store_true", help=_ANY_ANGLE)
    p.add_argument("--analyse", metavar="NAMES", help=_ANALYSE + "; their values go into each face's JSON")
    p.add_argument("--chips", metavar="DIR", help="write each face cut out and aligned to DIR as <photo stem>_<face>.png")
    p.add_argument("--chip-template", choices=("dlib", "arcface"), default="dlib",
                   help="dlib: aligned as dlib's get_face_chip (default, 150 px); arcface: the five-point 112x112 "
                        "template of recognition models")
    p.add_argument("--chip-size", type=int, default=None, help="chip side in pixels (default 150, or 112 for arcface)")
    p.add_argument("--jsonl", metavar="FILE", help="stream one JSON line per photo, its record (below), as it is "
                   "done (for collections of any size: bounded memory); - for standard output")
    p.add_argument("--resume", action="store_true", help="continue a --jsonl output: skip the photos already in it")
    p.add_argument("--jobs", type=int, default=1, help="local processes (default 1); results keep the input order")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster whose scheduler is at ADDRESS "
                   "(e.g. tcp://10.0.0.5:8786; needs pip install 'fkp_classic[dask]'); results keep the input order")
    p.add_argument("--trust-model", action="store_true", help=_TRUST)
    p.set_defaults(func=cmd_detect)
    p = sub.add_parser("track", help="follow faces and keypoints through a video, a stream or a camera",
                       description="Follow faces through a video: keypoints refined from frame to frame, the face "
                                   "detector run only now and then, points smoothed over time. Without -o or --csv, "
                                   "prints for each second of video its frames, faces per frame and track ids. "
                                   "Live (cameras and URLs; --live for others), a reader thread decodes the frames "
                                   "as they come and the tracker takes the newest: it never falls behind, frames it "
                                   "had no time for are dropped, and the drops and the latency from capture to "
                                   "result are reported. Ctrl-C then stops the run and still writes the outputs.")
    p.add_argument("video", nargs="?", help="video file (any format FFmpeg reads), URL (http, https, rtsp, rtmp, ...: "
                   "whatever FFmpeg opens), or - for standard input (a streamable format: Matroska, MPEG-TS, AVI, ...)")
    p.add_argument("--camera", metavar="DEVICE", help="read a camera instead: its number (0 is the first) or device "
                   "name, through FFmpeg's v4l2 (Linux), avfoundation (macOS) or dshow (Windows, by name) input")
    p.add_argument("--live", action=argparse.BooleanOptionalAction, default=None,
                   help="live mode (the default for cameras and URLs; a file or standard input is then played at its "
                   "frame rate): the CSV gets skipped (frames dropped just before the row's frame) and latency_ms "
                   "columns after time_s, frame counts every captured frame; --no-live reads every frame")
    p.add_argument("--show", action="store_true", help="a preview window (matplotlib's) with the faces drawn, updated "
                   "every frame; closing it stops the run and writes the outputs")
    p.add_argument("-o", "--output", help="annotated video to write (.mp4, .mov, .mkv, .avi): boxes, points, track ids")
    p.add_argument("--no-error-circles", action="store_true",
                   help="with -o, leave out the circles of 1.645 predicted standard deviations (90%%) around the points")
    p.add_argument("--no-contours", action="store_true",
                   help="with -o, draw the points without the lines joining them (jaw, brows, nose, eyes, lips)")
    p.add_argument("--csv", metavar="FILE", help="CSV to write, - for standard output: one row per frame and face, "
                   "frame,time_s,track_id,box_x,box_y,box_w,box_h,score,expected_nme (empty when unknown: a model "
                   "without an error model), then <name>_x,<name>_y per keypoint (and --analyse's columns); live, "
                   "skipped,latency_ms after time_s")
    p.add_argument("--model", default="default", help=_MODEL + " (default: the packaged model)")
    p.add_argument("--points", type=int, choices=sorted(POINTS), default=None,
                   help="the packaged model's keypoints: 15 (Kaggle's, the default) or 68 (iBUG's, numbered as "
                        "dlib's 68-point model)")
    p.add_argument("--min-size", type=int, default=40, help="smallest face searched, in pixels (default 40)")
    p.add_argument("--face-detector", choices=("hog", "lbp"), default="hog", help="face detector (default hog)")
    p.add_argument("--min-score", type=float, default=0.3,
                   help="lowest face score of a new face (the verifier's plus half the HOG detector's above its "
                   "threshold; default 0.3, as fkp detect's); a followed face is kept down to 0.5 below it")
    p.add_argument("--detect-every", type=int, default=60,
                   help="frames between face detector runs while faces are followed (default 60)")
    p.add_argument("--check-every", type=int, default=10, help="frames between verifier checks of a face (default 10)")
    p.add_argument("--max-faces", type=int, default=None, help="follow at most this many faces")
    p.add_argument("--keep-doubted", action="store_true", help=_KEEP_DOUBTED)
    p.add_argument("--any-angle", action="store_true", help=_ANY_ANGLE)
    p.add_argument("--no-smoothing", action="store_true", help="write the raw tracked points, not smoothed")
    p.add_argument("--no-refine", action="store_true", help=_NO_REFINE)
    p.add_argument("--analyse", metavar="NAMES", help=_ANALYSE + "; their values become CSV columns (with eyes, a "
                   "blinking column and each track's blinks printed at the end)")
    p.add_argument("--trust-model", action="store_true", help=_TRUST)
    p.set_defaults(func=cmd_track)
    p = sub.add_parser("convert-model", help="rewrite a pickle (joblib) model file in the safe model format",
                       description="Rewrite a model file pickled (joblib) by an earlier fkp_classic in the safe "
                                   "model format (skops: no code runs when it is loaded). Unpickling runs the code "
                                   "the file names: --trust says it is a file you made yourself.")
    p.add_argument("old", help="the model file to read (a pickle needs --trust)")
    p.add_argument("new", help="the safe model file to write (.skops)")
    p.add_argument("--trust", action="store_true", help="unpickle OLD: only for a file you made yourself")
    p.set_defaults(func=cmd_convert_model)
    return parser


_KEEP_DOUBTED = ("keep the faces whose points the keypoint model expects to be far off, beyond its own limit "
                 "(a lamp or a blur of lights the verifier let through; dropped by default)")
_NO_REFINE = ("keep the 68-point model's own points: do not refit the eyes, brows, mouth, nose and jaw on crops of each "
              "cut from the photo (the packaged part refiner; 15-point models have none)")
_ANY_ANGLE = ("also find faces turned beyond about 45 degrees (sideways, upside down) by searching the photo "
              "turned by 90, 180 and 270 degrees: about four times the face detector's time (only with "
              "--face-detector hog)")


def _rotations(args):
    """The face detector's search: ``"all"`` with ``--any-angle`` (the HOG detector only), else its own."""
    if not args.any_angle:
        return None
    if args.face_detector != "hog":
        raise UserError(f"--any-angle needs --face-detector hog, not {args.face_detector}")
    return "all"


def main(argv=None):
    global _progress
    args = build_parser().parse_args(argv)
    from .utils import Progress

    _progress = Progress()
    try:
        args.func(args)
    except BrokenPipeError:  # the reader of the data on standard output stopped (fkp ... --jsonl - | head)
        _done()
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no second error at exit's flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except _user_errors() as exc:
        _done()
        print(f"fkp: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
