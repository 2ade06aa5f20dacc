"""Build the pretrained 15-point model shipped in the package, fitted on all of faces96.

    python tools/train_default.py --data ../shared/data/faces96 [--points 68 -o PATH]

Deterministic (seeded). Writes fkp_classic/models/default.skops, the CascadeRegressor that
fkp_classic.load_default_model() and the fkp command line load when no model is given. With
--points 68 it fits the 68 points of training_meta.csv on faces96 alone (a faces96-only model, e.g. to
compare); the packaged 68-point model is built from the 300-W photos and faces96 by tools/train_wild.py.
The face detector and the photo path's verifier are built next by tools/train_face_detector.py.
"""

import argparse
import time
from pathlib import Path

from fkp_classic import CascadeRegressor, save_model
from fkp_classic.estimators import DENSE_LAYOUT_PARAMS
from fkp_classic.datasets import load_kaggle
from fkp_classic.persistence import DEFAULT_MODEL, load_model, widen_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--points", type=int, choices=[15, 68], default=15)
    parser.add_argument("-o", "--output", default=None, help="default: the packaged model's path")
    args = parser.parse_args()
    ibug = args.points == 68
    if ibug and args.output is None:
        parser.error("--points 68 needs -o: the packaged 68-point model is tools/train_wild.py's")
    output = args.output or str(DEFAULT_MODEL)
    data = load_kaggle(args.data, layout="ibug68" if ibug else "kaggle15")
    start = time.perf_counter()
    # 68 close points: the dense settings; 15: the training faces and their mirror images about the annotations'
    # measured axis (benchmarks/results/results.md: "cascade, mirrored faces")
    settings = dict(DENSE_LAYOUT_PARAMS) if ibug else {"flip": True}
    model = CascadeRegressor(random_state=0, verbose=1, layout=data.layout, **settings).fit(data.data, data.target)
    print(f"fitted on {len(data.data)} faces in {time.perf_counter() - start:.0f} s")
    save_packaged(model, output, data.data, narrow="float16" if ibug else "float32")


def narrow_weights(model, narrow):
    """A cascade's ridge weights (each stage's, its start's and its error model's) stored as ``narrow``."""
    error_model = getattr(model, "error_model_", None)
    for ridge in [model.init_, *model.stages_] + ([error_model.ridge] if error_model is not None else []):
        ridge.coef_ = ridge.coef_.astype(narrow)


def save_packaged(model, output, X, *, narrow):
    """Save ``model`` as a packaged model: ridge weights narrowed to ``narrow``, ``X`` fingerprinted.

    Store the ridge weights as float32 (float16 at 68 points): a third (a quarter) of the file, under
    2 MB either way; the 68-point model's reduced-rank ridges are stored as their rank rows of scores.
    The shift the narrowing causes is measured on the model as it loads back from the file (on ``X[:200]``),
    in its standard deviations too when it has an error model.
    """
    with_std = model.error_model_ is not None
    before, before_std = model.predict(X[:200], return_std=True) if with_std else (model.predict(X[:200]), None)
    narrow_weights(model, narrow)
    save_model(model, output, training_data=X)  # fkp evaluate then flags in-sample scores
    loaded = widen_model(load_model(output))
    after, after_std = loaded.predict(X[:200], return_std=True) if with_std else (loaded.predict(X[:200]), None)
    print(f"narrowed weights move predictions by at most {abs(after - before).max():.1e} px"
          + (f" and their std by {abs(after_std / before_std - 1).max():.1e} (relative)" if with_std else ""))
    print(f"{Path(output).stat().st_size / 2**20:.2f} MiB")
    print(f"saved to {output}")

if __name__ == "__main__":
    main()
