"""Build the pretrained model shipped in the package: CascadeRegressor fitted on all of faces96.

    python benchmarks/train_default.py --data ../shared/data/faces96

Deterministic (the cascade's random_state is fixed). Writes fkp_classic/models/default.joblib,
which fkp_classic.load_default_model() and the fkp command line load when no model is given.
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
    # Predictions use the copies in model.weights_; the ridges are kept for inspection, and storing
    # their coefficients as float32 keeps the file small without changing any prediction.
    before = model.predict(data.data[:200])
    for ridge in [model.init_] + list(model.stages_):
        ridge.coef_ = ridge.coef_.astype("float32")
    assert (model.predict(data.data[:200]) == before).all()
    save_model(model, args.output)
    print(f"saved to {args.output}")


if __name__ == "__main__":
    main()
