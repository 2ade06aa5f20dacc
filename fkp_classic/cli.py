"""The ``fkp`` command line: fit, predict, submit, evaluate, show, detect."""

import argparse
import ast
import json
import sys

import numpy as np

from ._version import __version__

ESTIMATORS = ("KeypointRegressor", "CascadeRegressor", "MeanPatchTemplateSearch", "MeanKeypoints")


class UserError(Exception):
    """A mistake of the user's: printed as one line, exit status 2."""


def _progress(text):
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}")
        sys.stderr.flush()


def _done():
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")


def _parse_param(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UserError(f"--param {text!r} is not of the form name=value")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _model(path):
    """The model file at ``path``, or the packaged model for ``"default"``."""
    from .persistence import load_default_model, load_model

    return load_default_model() if path == "default" else load_model(path)


def cmd_fit(args):
    from . import estimators
    from .datasets import load_kaggle
    from .persistence import save_model

    if args.estimator not in ESTIMATORS:
        raise UserError(f"--estimator must be one of {', '.join(ESTIMATORS)}, got {args.estimator!r}")
    estimator = getattr(estimators, args.estimator)()
    params = dict(_parse_param(p) for p in args.param or [])
    try:
        estimator.set_params(**params)
    except ValueError as exc:
        raise UserError(f"--param: {exc}") from None
    _progress(f"loading {args.data}")
    data = load_kaggle(args.data)
    _progress(f"fitting {args.estimator} on {len(data.data)} faces")
    estimator.fit(data.data, data.target)
    _done()
    save_model(estimator, args.output)
    print(f"saved {args.estimator} fitted on {len(data.data)} faces to {args.output}")


def _predict_test(args):
    from .datasets import load_kaggle_test

    model = _model(args.model)
    test = load_kaggle_test(args.test)
    _progress(f"predicting {len(test.data)} faces")
    pred = model.predict(test.data)
    _done()
    return test, pred, model


def cmd_predict(args):
    import pandas as pd

    from .photo import model_layout
    from .utils import atomic_write

    test, pred, model = _predict_test(args)
    columns = model_layout(model)[0].columns
    if pred.shape[1] != len(columns):
        raise UserError(f"the model predicts {pred.shape[1]} columns but its layout has {len(columns)}")
    frame = pd.DataFrame(pred, columns=list(columns))
    frame.insert(0, "ImageId", test.image_ids)
    with atomic_write(args.output, "w", newline="") as fh:
        frame.to_csv(fh, index=False)
    print(f"wrote keypoints of {len(frame)} faces to {args.output}")


def cmd_submit(args):
    from .datasets import write_submission

    test, pred, _ = _predict_test(args)
    submission = write_submission(pred, test.image_ids, args.lookup, args.output)
    print(f"wrote {len(submission)} rows to {args.output}")


def cmd_evaluate(args):
    from .datasets import load_kaggle
    from .metrics import per_keypoint_rmse, rmse
    from .photo import model_layout

    model = _model(args.model)
    data = load_kaggle(args.data)
    _progress(f"predicting {len(data.data)} faces")
    pred = model.predict(data.data)
    _done()
    print(f"RMSE over {len(data.data)} faces: {rmse(data.target, pred):.3f} px")
    print("| keypoint | RMSE px |\n|---|---|")
    for name, value in zip(model_layout(model)[0].names, per_keypoint_rmse(data.target, pred)):
        print(f"| {name} | {value:.3f} |")


def cmd_show(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .datasets import DataError, load_kaggle, load_kaggle_test
    from .utils import atomic_write

    try:
        data = load_kaggle(args.data)
        truth = data.target
    except DataError as training_error:  # a test file has no labels to draw
        try:
            data, truth = load_kaggle_test(args.data), None
        except DataError:
            raise training_error from None  # neither: the training file's problem is the one to name
    n = min(args.n, len(data.data))
    pred = _model(args.model).predict(data.data[:n]) if args.model is not None else None
    cols = min(n, 8)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(data.images[i], cmap="gray", vmin=0, vmax=255)
        if truth is not None:
            ax.scatter(truth[i, 0::2], truth[i, 1::2], s=6, c="lime")
        if pred is not None:
            ax.scatter(pred[i, 0::2], pred[i, 1::2], s=6, c="red", marker="x")
    with atomic_write(args.output, "wb") as fh:
        fig.savefig(fh, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    legend = ", ".join(what for what, shown in (("green: true", truth is not None), ("red: predicted", pred is not None)) if shown)
    print(f"drew {n} faces to {args.output}" + (f" ({legend})" if legend else ""))


def cmd_detect(args):
    from skimage import io

    from .photo import KeypointDetector
    from .utils import atomic_write

    detector = KeypointDetector(_model(args.model))
    results = {}
    for path in args.photo:
        try:
            image = io.imread(path)
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read photo {path}: {exc}") from None
        faces = detector.detect(image, name=path)
        results[path] = [face.to_dict() for face in faces]
        print(f"{path}: {len(faces)} face(s)")
        if args.output:
            _draw(image, faces, args.output if len(args.photo) == 1 else _numbered(args.output, path))
    if args.json:
        with atomic_write(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


def _numbered(output, photo):
    from pathlib import Path

    out = Path(output)
    return out.with_name(f"{out.stem}_{Path(photo).stem}{out.suffix}")


def _draw(image, faces, output):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt

    from .utils import atomic_write

    fig, ax = plt.subplots(figsize=(6, 6 * image.shape[0] / image.shape[1]))
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    for face in faces:
        x, y, w, h = face.box
        ax.add_patch(patches.Rectangle((x, y), w, h, fill=False, color="yellow", lw=1))
        ax.scatter(face.points[:, 0], face.points[:, 1], s=10, c="red")
    ax.axis("off")
    with atomic_write(output, "wb") as fh:
        fig.savefig(fh, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def build_parser():
    parser = argparse.ArgumentParser(prog="fkp", description="Facial keypoints with classical computer vision.")
    parser.add_argument("--version", action="version", version=f"fkp_classic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fit", help="fit an estimator on Kaggle training data and save it")
    p.add_argument("data", help="training.csv/.zip, the competition zip, or a folder")
    p.add_argument("-o", "--output", required=True, help="model file to write (.joblib)")
    p.add_argument("--estimator", default="KeypointRegressor", help=f"one of {', '.join(ESTIMATORS)}")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="estimator parameter (repeatable)")
    p.set_defaults(func=cmd_fit)
    p = sub.add_parser("predict", help="predict test faces; a CSV with ImageId and the 30 Kaggle columns")
    p.add_argument("model", help="model file ('default' for the packaged model)")
    p.add_argument("test", help="test.csv/.zip, the competition zip, or a folder")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("submit", help="write a Kaggle submission (RowId,Location)")
    p.add_argument("model", help="model file ('default' for the packaged model)")
    p.add_argument("test")
    p.add_argument("lookup", help="IdLookupTable.csv (or the zip/folder holding it)")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_submit)
    p = sub.add_parser("evaluate", help="RMSE and per-keypoint RMSE of a model on labelled data")
    p.add_argument("model", help="model file ('default' for the packaged model)")
    p.add_argument("data")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("show", help="draw faces with true and/or predicted keypoints")
    p.add_argument("data")
    p.add_argument("--model", help="also draw this model's predictions ('default' for the packaged model)")
    p.add_argument("-n", type=int, default=16, help="number of faces (default 16)")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("detect", help="find faces and keypoints in photos")
    p.add_argument("photo", nargs="+")
    p.add_argument("--model", default="default", help="model file (default: the packaged model)")
    p.add_argument("-o", "--output", help="annotated PNG")
    p.add_argument("--json", help="write boxes and named points as JSON")
    p.set_defaults(func=cmd_detect)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .datasets import DataError
    from .persistence import ModelVersionError

    try:
        args.func(args)
    except (UserError, DataError, ModelVersionError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        _done()
        print(f"fkp: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # e.g. images of the wrong size for the model
        _done()
        print(f"fkp: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
