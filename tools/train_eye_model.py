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
from pathlib import Path

from fkp_classic.analysis import eye_cascade, eye_training_crops
from fkp_classic.datasets import load_300w
from fkp_classic.persistence import load_model, save_model, widen_model

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
    output = args.output or str(EYE_MODEL)
    before = model.predict(crops.data[:500])
    for ridge in [model.init_, *model.stages_]:  # float32 weights: half the file
        ridge.coef_ = ridge.coef_.astype("float32")
    save_model(model, output)  # no fingerprints: eye crops are never scored by fkp evaluate
    after = widen_model(load_model(output)).predict(crops.data[:500])
    print(f"narrowed weights move predictions by at most {abs(after - before).max():.1e} px; "
          f"{Path(output).stat().st_size / 2**20:.2f} MiB, saved to {output}")


if __name__ == "__main__":
    main()
