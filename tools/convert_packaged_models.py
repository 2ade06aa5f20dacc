"""Rewrite the packaged models, pickled by joblib until now, in the safe model format (run once).

For each ``fkp_classic/models/<name>.joblib`` beside this checkout: unpickle it (these are the project's
own files), write ``<name>.skops`` with the same payload (the saving version, the training-set
fingerprints, and the arrays in the narrowed float16/float32 dtypes they were stored in), then check
that the loaders give bit-for-bit the same predictions from the new file as from the old one.

    python tools/convert_packaged_models.py [--remove-old]
"""

import argparse
from pathlib import Path

import joblib
import numpy as np

from fkp_classic import persistence
from fkp_classic.persistence import _write, widen_verifier

MODELS = Path(persistence.__file__).resolve().parent / "models"
NAMES = ("default", "ibug68", "face_verifier", "face_detector")


def convert(name):
    payload = joblib.load(MODELS / f"{name}.joblib")
    _write(payload["model"], MODELS / f"{name}.skops", payload.get("training_fingerprints"),
           version=payload["fkp_classic_version"])
    return payload["model"]


def same_outputs(name, old):
    """Bit-for-bit equal outputs of the old (pickled) and new (loaded through the library) models."""
    rng = np.random.default_rng(0)
    if name in ("default", "ibug68"):
        new = persistence.load_default_model(layout="ibug68" if name == "ibug68" else "kaggle15")
        X = rng.uniform(0, 255, (40, 96 * 96))
        pred_old, std_old = persistence.widen_model(old).predict(X, return_std=True)
        pred_new, std_new = new.predict(X, return_std=True)
        return np.array_equal(pred_old, pred_new) and np.array_equal(std_old, std_new)
    if name == "face_verifier":
        new = persistence.load_default_verifier()
        X = rng.uniform(0, 255, (40, old[0].n_features_in_))
        return np.array_equal(widen_verifier(old).decision_function(X), new.decision_function(X))
    from skimage import data

    new = persistence.load_default_face_detector()
    photo = data.astronaut()
    boxes_old, scores_old = old.detect(photo, return_scores=True)
    boxes_new, scores_new = new.detect(photo, return_scores=True)
    return np.array_equal(boxes_old, boxes_new) and np.array_equal(scores_old, scores_new) and len(boxes_new) > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remove-old", action="store_true", help="delete the .joblib files once checked")
    args = parser.parse_args()
    for name in NAMES:
        old = convert(name)
        same = same_outputs(name, old)
        old_size, new_size = (MODELS / f"{name}.joblib").stat().st_size, (MODELS / f"{name}.skops").stat().st_size
        print(f"{name}: {old_size} -> {new_size} bytes; identical outputs: {same}")
        if not same:
            raise SystemExit(f"{name}: the converted model does not predict as the pickled one")
        if args.remove_old:
            (MODELS / f"{name}.joblib").unlink()


if __name__ == "__main__":
    main()
