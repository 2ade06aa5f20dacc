"""Build the packaged part refiner: iBUG's eyes, brows, mouth, nose and jaw refitted on 48 x 48 crops, from annotated photos.

    python tools/train_part_refiner.py --data ../shared/data/300w [--n-perturbations 4] [-o PATH]

Every face of the 300-W training part, and its mirror image, gives each part's crop framed from its true
points and ``--n-perturbations`` more with the part framing noise (``fkp_classic.photo.PartRefiner``).
The photo path (``KeypointDetector``, ``fkp detect``, ``fkp track``) refits the parts of 68-point faces
with it.

**The 300-W annotations are licensed for research and non-commercial use only**: so is the refiner this
writes (its ``training_note_`` says so, as does ``fkp_classic/models/MODEL_CARD.md``).

Writes ``fkp_classic/models/parts68.skops`` unless ``-o``.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from fkp_classic.datasets import load_300w
from fkp_classic.persistence import load_model, save_model
from fkp_classic.photo import PartRefiner
from train_default import narrow_weights  # this folder's: a cascade's ridge weights stored narrower

LICENCE = "The 300-W annotations are licensed for research and non-commercial use only; so is this model."


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the 300-W training part (lfpw_trainset, helen_trainset, afw)")
    parser.add_argument("--n-perturbations", type=int, default=4)
    parser.add_argument("-o", "--output", default=None, help="default: the packaged part refiner's path")
    args = parser.parse_args()
    from fkp_classic.persistence import PART_REFINER

    output = args.output or str(PART_REFINER)
    photos = load_300w(args.data)
    start = time.perf_counter()
    refiner = PartRefiner(n_perturbations=args.n_perturbations, random_state=0).fit(photos)
    refiner.training_note_ = (f"Part refiner fitted on the {photos.n_faces} faces of {args.data} and their mirror "
                              f"images ({args.n_perturbations} perturbed crops of each part besides the true one). "
                              f"{LICENCE}")
    print(f"fitted in {time.perf_counter() - start:.0f} s: {refiner.training_note_}")
    # float32 ridge weights: half the file; the shift this causes is measured on the refiner as it loads back
    _, gray, faces = next(photos.iter_photos())
    before = refiner.refine(gray, photos.points[faces])
    for est in refiner.estimators_:
        narrow_weights(est, np.float32)
    save_model(refiner, output)
    after = load_model(output).widen_weights().refine(gray, photos.points[faces])
    print(f"narrowed weights move the refitted points by at most {np.abs(after - before).max():.1e} px")
    print(f"{Path(output).stat().st_size / 2**20:.2f} MiB, saved to {output}")


if __name__ == "__main__":
    main()
