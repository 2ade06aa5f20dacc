"""Build the packaged keypoint models from annotated photos: the 300-W training part (+ faces96's crops).

    python tools/train_wild.py --data ../shared/data/300w [--faces96 ../shared/data/faces96] \
        [--points 68|15] [--size 96] [--no-mirror] [--rotation 0] [-o PATH]

The crops are cut from the photos as the photo path frames a face
(``fkp_classic.datasets.photo_training_crops``: framed from the true points with the measured framing noise,
mirrored photos), and the cascade is ``photo_cascade(size)`` (DENSE_LAYOUT_PARAMS with cells scaled to the
size) for 68 points, the default cascade for 15. For 15 points the 68 points are mapped to Kaggle's 15
first, so the crops are framed from the 15 points as the photo path frames a 15-point model's faces.

**The 300-W annotations are licensed for research and non-commercial use only**: so is every model this
writes. The model's ``training_note_`` says so; the README's model card must say it too.

Writes the packaged model's path (``fkp_classic/models/ibug68.skops`` or ``default.skops``) unless ``-o``. The
packaged 68-point model is ``--data ../shared/data/300w --faces96 ../shared/data/faces96`` (the model card,
``fkp_classic/models/MODEL_CARD.md``, says why); the packaged 15-point model is faces96's alone
(``tools/train_default.py``).
"""

import argparse
import time

from fkp_classic import CascadeRegressor
from fkp_classic.datasets import (FRAMING_NOISE, fit_from_photos, load_300w, load_kaggle, photo_cascade,
                                  photo_training_crops)
from train_default import save_packaged  # this folder's: narrowed weights, fingerprinted faces


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the 300-W training part (lfpw_trainset, helen_trainset, afw)")
    parser.add_argument("--faces96", default=None, help="also train on faces96's crops (this folder)")
    parser.add_argument("--points", type=int, choices=[15, 68], default=68)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--no-mirror", action="store_true")
    parser.add_argument("--n-perturbations", type=int, default=1)
    parser.add_argument("--framing-noise", type=float, nargs=2, default=list(FRAMING_NOISE))
    parser.add_argument("--rotation", type=float, default=0.0)
    parser.add_argument("-o", "--output", default=None, help="default: the packaged model's path")
    args = parser.parse_args()
    from fkp_classic.persistence import DEFAULT_MODEL, IBUG68_MODEL

    ibug = args.points == 68
    output = args.output or str(IBUG68_MODEL if ibug else DEFAULT_MODEL)
    photos = load_300w(args.data)
    if not ibug:
        photos = photos.in_layout("kaggle15")
    extra = None
    if args.faces96:
        faces = load_kaggle(args.faces96, layout="ibug68" if ibug else "kaggle15")
        extra = (faces.data, faces.target)
    estimator = (photo_cascade(args.size, photos.layout, verbose=1) if ibug else
                 CascadeRegressor(image_shape=(args.size, args.size), layout=photos.layout, random_state=0, verbose=1))
    start = time.perf_counter()
    model = fit_from_photos(photos, estimator=estimator, size=args.size, extra=extra, mirror=not args.no_mirror,
                            n_perturbations=args.n_perturbations, framing_noise=tuple(args.framing_noise),
                            rotation=args.rotation)
    print(f"fitted in {time.perf_counter() - start:.0f} s: {model.training_note_}")
    # The fingerprinted faces (fkp evaluate flags in-sample scores): faces96's crops when they were used,
    # else the photos' exactly framed crops.
    X = extra[0] if extra is not None and args.size == 96 else photo_training_crops(
        photos, size=args.size, n_perturbations=0, mirror=False).data
    save_packaged(model, output, X, narrow="float16" if ibug else "float32")


if __name__ == "__main__":
    main()
