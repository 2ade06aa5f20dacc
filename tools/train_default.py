"""Build the pretrained models shipped in the package, fitted on all of faces96.

    python tools/train_default.py --data ../shared/data/faces96

Deterministic (seeded). Writes fkp_classic/models/default.joblib, the CascadeRegressor that
fkp_classic.load_default_model() and the fkp command line load when no model is given. The face
detector and the photo path's verifier are built next, from it, by tools/train_face_detector.py.
"""

import argparse
import time

from fkp_classic import CascadeRegressor, save_model
from fkp_classic.datasets import load_kaggle
from fkp_classic.persistence import DEFAULT_MODEL


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("-o", "--output", default=str(DEFAULT_MODEL))
    args = parser.parse_args()
    data = load_kaggle(args.data)
    start = time.perf_counter()
    model = CascadeRegressor(random_state=0).fit(data.data, data.target)
    print(f"fitted on {len(data.data)} faces in {time.perf_counter() - start:.0f} s")
    # Store the ridge weights as float32: a third of the file (under 2 MB); the shift it causes in
    # predictions is printed (about 1e-6 px).
    before = model.predict(data.data[:200])
    for ridge in [model.init_] + list(model.stages_):
        ridge.coef_ = ridge.coef_.astype("float32")
    shift = abs(model.predict(data.data[:200]) - before).max()
    print(f"float32 weights move predictions by at most {shift:.1e} px")
    save_model(model, args.output, training_data=data.data)  # fkp evaluate then flags in-sample scores
    print(f"saved to {args.output}")


if __name__ == "__main__":
    main()
