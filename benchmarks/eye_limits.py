"""Where eye openness from the points loses its correlation with the truth: held-out 300-W faces, per fold.

    python benchmarks/eye_limits.py --data ../shared/data/300w --fold-models DIR [--run-folds 0 1] [--publish]

``DIR`` holds ``benchmarks/wild.py cv``'s cached fold models (``cv_fold{k}.joblib``, the 68-point face model
fitted on the other folds' photos, and ``cv_fold{k}_parts.joblib``, its part refiner; missing refiners are
fitted and cached as ``wild.py`` does). On each fold's test photos (GroupKFold(5) by photo) the face model
fits crops framed from the true points, the part refiner refits the parts (as ``benchmarks/analysis.py``
measures "framed from true points"), and eye openness (``fkp_classic.analysis.eye_measures``, each eye) is
compared with the true points' by Pearson r and closed-eye (true below 0.15) ROC AUC:

- **where the error is**: the predicted eye points with some of them replaced by the true ones (corners,
  lids, upper or lower lids alone);
- **how far the refit goes**: the eye points moved from the face model's towards the refit by shares
  0.7-1.2 (the packaged share is 0.9);
- **a model of openness itself**: a ridge regression (alpha by leave-one-out) of the true eye aspect ratio
  on the HOG of the refiner's own eye crop (each eye levelled, the left one mirrored), trained on the
  fold's training photos framed from their true points and 4 perturbed framings each, applied to the test
  eyes framed from the refitted points; alone and blended with the points' openness.

Writes eye_limits.md and .json to a run folder (benchmarks/runs/<time>/, or benchmarks/results/ with
--publish). The 300-W annotations are licensed for research and non-commercial use only.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fkp_classic.analysis import eye_measures  # noqa: E402
from fkp_classic.datasets import load_300w  # noqa: E402
from fkp_classic.features import hog_batch  # noqa: E402
from fkp_classic.photo import crop_frames  # noqa: E402
from fkp_classic.photo._part_refiner import _eyes, _part_frames, _views  # noqa: E402
from fkp_classic.utils import atomic_write  # noqa: E402
from analysis import openness_figures  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402
from wild import fold_refiner, photo_folds, true_framed  # noqa: E402

SHARES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)
BLENDS = (0.2, 0.3, 0.5)
CORNERS, UPPER, LOWER = [36, 39, 42, 45], [37, 38, 43, 44], [40, 41, 46, 47]


def figures(pred, true):
    """Pearson r and closed-eye ROC AUC of each eye's openness of ``pred`` against ``true`` (``(n, 68, 2)``)."""
    p, t = (np.concatenate([(e := eye_measures(x, layout="ibug68"))["right"], e["left"]]) for x in (pred, true))
    return _scored(p, t)


def _scored(p, t):
    """:func:`analysis.openness_figures`' r and AUC of openness values ``p`` against the true ``t``."""
    out = openness_figures(p, t)
    return {"r": out["eye_r"], "auc": out["closed_auc"]}


def eye_crops(photos, points, refiner, rng=None, n_perturbations=0):
    """HOG of the refiner's eye crops (right eyes, then mirrored left eyes, per photo) framed from ``points``
    (one row per face of ``photos``), with ``n_perturbations`` more framings each; and each crop's true eye
    aspect ratio and the framing points' one."""
    part = next(p for p in refiner.parts_ if p["region"] == "eyes")
    if part["points"] != list(range(36, 42)):
        raise ValueError(f"the refiner's own eye is not iBUG's points 36-41: {part['points']}")
    own, span = np.array(part["points"]), refiner.spans_[refiner.parts_.index(part)]
    layout = photos.layout
    perm, eyes = layout.flip_permutation, _eyes(layout)
    crops, truth, framed = [], [], []
    for _, gray, faces in photos.iter_photos():
        use = points[faces].reshape(len(faces), -1, 2)
        true = photos.points[faces].reshape(len(faces), -1, 2)
        t, p = eye_measures(true, layout=layout), eye_measures(use, layout=layout)
        for (image, view), t_eye, p_eye in zip(_views(gray, use, perm), (t["right"], t["left"]),
                                               (p["right"], p["left"])):
            for k in range(1 + n_perturbations):
                frames = _part_frames(view, own, eyes, span, rng=rng if k else None,
                                      noise=refiner.framing_noise if k else None)
                crops.append(crop_frames(image, frames, size=refiner.size)[0])
                truth.append(t_eye)
                framed.append(p_eye)
    size = refiner.size
    images = np.concatenate(crops).reshape(-1, size, size).astype(float)
    return hog_batch(images, pixels_per_cell=(size // 8,) * 2, transform_sqrt=True), np.concatenate(truth), \
        np.concatenate(framed)


def run_fold(photos, k, fold_models, log=print):
    import joblib
    from sklearn.linear_model import RidgeCV

    train, test = photo_folds(photos)[k]
    fit_on, scored = photos.take(train), photos.take(test)
    model = joblib.load(Path(fold_models) / f"cv_fold{k}.joblib")
    refiner = fold_refiner(fit_on, Path(fold_models) / f"cv_fold{k}_parts.joblib", log=log)
    clock = time.perf_counter()
    plain = true_framed(model, scored)
    whole = true_framed(model, scored, refiner=_whole(refiner))
    refined = true_framed(model, scored, refiner=refiner)
    log(f"fold {k}: points in {time.perf_counter() - clock:.0f} s")
    true = scored.points.reshape(-1, 68, 2)
    p0, p1, pw = (a.reshape(-1, 68, 2) for a in (plain, refined, whole))
    out = {"fold": k, "faces": int(len(true)), "face model": figures(p0, true), "refined": figures(p1, true)}
    swaps = {"true corners": CORNERS, "true lids": UPPER + LOWER, "true upper lids": UPPER,
             "true lower lids": LOWER}
    out["swaps"] = {}
    for name, idx in swaps.items():
        x = p1.copy()
        x[:, idx] = true[:, idx]
        out["swaps"][name] = figures(x, true)
    out["shares"] = {}
    for share in SHARES:
        x = p0.copy()
        x[:, 36:48] = p0[:, 36:48] + share * (pw[:, 36:48] - p0[:, 36:48])
        out["shares"][str(share)] = figures(x, true)
    clock = time.perf_counter()
    rng = np.random.RandomState(k)
    H, y, _ = eye_crops(fit_on, fit_on.points, refiner, rng=rng, n_perturbations=4)
    ridge = RidgeCV(alphas=np.logspace(-1, 4, 11)).fit(H, y)
    H_test, y_test, from_points = eye_crops(scored, refined, refiner)
    regressed = ridge.predict(H_test)
    out["regressor"] = {"alpha": float(ridge.alpha_), "training_crops": int(len(y)), **_scored(regressed, y_test)}
    out["blends"] = {str(w): _scored(w * regressed + (1 - w) * from_points, y_test) for w in BLENDS}
    log(f"fold {k}: openness regressor in {time.perf_counter() - clock:.0f} s")
    return out


def _whole(refiner):
    """The refiner taking every refit whole (share 1)."""
    import copy

    return copy.copy(refiner).set_params(share=1.0)


def pooled(folds, key, sub=None):
    """A figure pooled over folds as the mean of the folds' (each fold holds about a fifth of the faces)."""
    pick = (lambda f: f[key][sub]) if sub else (lambda f: f[key])
    return {m: float(np.mean([pick(f)[m] for f in folds])) for m in ("r", "auc")}


def render(folds, command):
    def cell(v):
        return f"{v['r']:.3f} / {v['auc']:.3f}"

    names = [f"fold {f['fold']}" for f in folds]
    head = "| | " + " | ".join(names) + " | mean |\n|---|" + "---|" * (len(folds) + 1)
    lines = ["# Eye openness: where the points lose it (held-out 300-W faces)", "",
             f"Command: `{command}`. Method in the script's docstring. Each cell: Pearson r / closed-eye ROC AUC "
             "of each eye's openness against the true points' (targets of issue 35: r >= 0.85, AUC >= 0.95).", "",
             head]

    def row(label, key, sub=None):
        values = [(f[key][sub] if sub else f[key]) for f in folds]
        lines.append(f"| {label} | " + " | ".join(cell(v) for v in values) + f" | {cell(pooled(folds, key, sub))} |")

    row("face model's points", "face model")
    row("parts refitted (the photo path's points)", "refined")
    for name in folds[0]["swaps"]:
        row(f"refitted, {name}", "swaps", name)
    for share in folds[0]["shares"]:
        row(f"eye points moved {share} of the way to the refit", "shares", share)
    row("openness regressed on the eye crop's HOG", "regressor")
    for w in folds[0]["blends"]:
        row(f"{w} regressed + {1 - float(w):.1f} from the points", "blends", w)
    mean = {name: pooled(folds, "swaps", name)["r"] for name in folds[0]["swaps"]}
    refined, regressor = pooled(folds, "refined")["r"], pooled(folds, "regressor")["r"]
    blend = max(pooled(folds, "blends", w)["r"] for w in folds[0]["blends"])
    lines += ["", f"Mean r over the folds: the refitted points {refined:.3f}; with the true lids in their place "
              f"{mean['true lids']:.3f}, with the true corners {mean['true corners']:.3f}: the error is in the "
              f"lids. Setting either lid right alone makes it worse ({mean['true upper lids']:.3f}, "
              f"{mean['true lower lids']:.3f}): the two lids' errors go together (the eye's centre, which the "
              "aspect ratio forgives), and what is missed is the gap between them. The refit's share barely "
              "matters (the rows 0.7-1.0). A model of openness itself, on the eye crop, reaches "
              f"{regressor:.3f} alone and {blend:.3f} blended with the points: {blend - refined:+.3f}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the 300-W training part")
    parser.add_argument("--fold-models", required=True, help="wild.py cv's cache of fold models")
    parser.add_argument("--run-folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    photos = load_300w(args.data)
    folds = [run_fold(photos, k, args.fold_models) for k in args.run_folds]
    out = output_folder(args)
    command = "python benchmarks/eye_limits.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(folds, command)
    with atomic_write(out / "eye_limits.md", "w") as fh:
        fh.write(text)
    with atomic_write(out / "eye_limits.json", "w") as fh:
        json.dump({"command": command, "folds": folds}, fh, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
