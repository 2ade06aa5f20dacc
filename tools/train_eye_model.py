"""Build the packaged eye model: iBUG's six points of an eye on 48 x 48 crops of the eye, from annotated photos.

    python tools/train_eye_model.py --data ../shared/data/300w [--size 48] [--n-perturbations 4] [-o PATH]

Both eyes of every face of the 300-W training part (the other eye from the mirrored photo), each framed
from its true points and ``--n-perturbations`` times with the eye framing noise
(``fkp_classic.analysis.eye_training_crops``); the cascade is ``eye_cascade()``. ``refit_eyes`` and the
``Eyes`` analyser use it on 68-point faces.

**The 300-W annotations are licensed for research and non-commercial use only**: so is the model this
writes (its ``training_note_`` says so, as does ``fkp_classic/models/MODEL_CARD.md``).

Writes ``fkp_classic/models/eyes68.skops`` unless ``-o``.
"""

import argparse
import time

from fkp_classic.analysis import eye_cascade, eye_training_crops
from fkp_classic.datasets import load_300w
from train_default import save_packaged  # this folder's: narrowed weights, the shift measured on reload

LICENCE = ("The 300-W annotations are licensed for research and non-commercial use only; so is this model.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the 300-W training part (lfpw_trainset, helen_trainset, afw)")
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--n-perturbations", type=int, default=4)
    parser.add_argument("-o", "--output", default=None, help="default: the packaged eye model's path")
    args = parser.parse_args()
    from fkp_classic.persistence import EYE_MODEL

    photos = load_300w(args.data)
    start = time.perf_counter()
    crops = eye_training_crops(photos, [f"p{i}" for i in range(36, 42)], size=args.size,
                               n_perturbations=args.n_perturbations, random_state=0)
    model = eye_cascade(layout=crops.layout, random_state=0).fit(crops.data, crops.target)
    model.training_note_ = (f"Eye model fitted on {len(crops.data)} eye crops of the {photos.n_faces} faces of "
                            f"{args.data} (both eyes, {args.n_perturbations} perturbed crops each). {LICENCE}")
    print(f"fitted in {time.perf_counter() - start:.0f} s: {model.training_note_}")
    # float32 weights: half the file; no fingerprints: eye crops are never scored by fkp evaluate
    save_packaged(model, args.output or str(EYE_MODEL), crops.data, narrow="float32", fingerprint=False)

if __name__ == "__main__":
    main()
