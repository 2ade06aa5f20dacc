"""Measure the photo pipeline on faces96 faces pasted into larger canvases.

    python benchmarks/photo_pipeline.py --data ../shared/data/faces96 [--fold 0]

Fits the keypoint model (CascadeRegressor) and the framing verifier on one GroupKFold fold's
training people, pastes every held-out face into a canvas (fkp_classic.evaluation.paste_faces), runs
detection, framing, prediction and mapping back, and prints the RMSE against predicting the 96x96
crops directly, with and without the pipeline's checks (detector mirror check, framing verifier).
"""

import argparse
from sklearn.model_selection import GroupKFold

from fkp_classic import CascadeRegressor
from fkp_classic.datasets import load_kaggle
from fkp_classic.evaluation import framing_examples, pasted_face_errors
from fkp_classic.photo import make_framing_verifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="faces96 folder (training.zip and training_meta.csv)")
    parser.add_argument("--fold", type=int, default=0)
    args = parser.parse_args()
    bunch = load_kaggle(args.data)
    if bunch.groups is None:
        parser.error("the data has no identity groups (training_meta.csv): held-out people cannot be chosen")
    train, test = list(GroupKFold(5).split(bunch.data, groups=bunch.groups))[args.fold]
    X, y = bunch.data, bunch.target
    model = CascadeRegressor(layout=bunch.layout).fit(X[train], y[train])
    verifier = make_framing_verifier().fit(*framing_examples(X[train], random_state=0))
    print(f"fold {args.fold}: {len(test)} held-out faces pasted into canvases")
    checked = pasted_face_errors(X[test], y[test], model, verifier=verifier)
    print_row("with mirror check and framing verifier", checked, len(test))
    plain = pasted_face_errors(X[test], y[test], model, mirror_check=False)
    print_row("without either check", plain, len(test))


def print_row(name, result, n_faces):
    photo, direct, found = result
    print(f"{name}: {photo:.3f} px through photos, {direct:.3f} px on the crops, ratio {photo / direct:.2f}x, "
          f"{found} of {n_faces} faces kept")


if __name__ == "__main__":
    main()
