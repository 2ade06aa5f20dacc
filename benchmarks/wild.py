"""The in-the-wild benchmark on the 300-W training part: framing noise, and 68 points by cross-validation.

    python benchmarks/wild.py framing --data ../shared/data/300w [--every 3]
    python benchmarks/wild.py cv --data ../shared/data/300w [--folds 5] [--run-folds 0 1] [--size 128] ...

``framing`` measures the face detector's box noise: on each photo the packaged HOG detector proposes crop
frames (``KeypointDetector.propose``), each true face is matched to one (IoU >= 0.5 of the crop squares; its
true square is ``reframe(true_points, mean_shape_)``), and the frame's centre offset (over the true side) and
scale (its side over the true side) are summarised, with the in-plane rotation of the true eyes; then the
frame the photo path feeds the model after its re-crop pass (the first crop's prediction, ``framing_stages``
stages, reframed) is measured the same way.

``cv`` cross-validates the 68-point cascade (``CascadeRegressor(**DENSE_LAYOUT_PARAMS)``) trained on crops
cut from the training folds' photos (``fkp_classic.datasets.photo_training_crops``), grouped by photo
(GroupKFold on ``groups``), scored (i) on crops framed from the true points and (ii) end to end through the
photo path on the test photos (a face is found when a proposal's final crop square overlaps the true one
with IoU >= 0.5; a miss is a failure). Peers in the same run: dlib's shape predictor trained on the same
folds' faces from dlib's own detector boxes, and dlib's packaged 68-point model (trained on all of 300-W:
a reference, not a peer). NME by the outer eye corners and by the pupils, AUC@0.08, failures at 0.08,
seconds per photo; CED figure.

The 300-W annotations are licensed for research and non-commercial use only: so is every model fitted here.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fkp_classic import load_default_model  # noqa: E402
from fkp_classic.datasets import load_300w  # noqa: E402
from fkp_classic.evaluation import eye_rotation, framing_errors, match_faces  # noqa: E402
from fkp_classic.photo import KeypointDetector, crop_frames, reframe, to_photo  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "wild"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _summary(values):
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std()),
            **{f"q{int(q * 100):02d}": float(np.quantile(values, q)) for q in QUANTILES}}


def measure_framing(photos, model, *, every=1, log=print):
    """Framing errors of the detector's proposals and of the re-crop pass, per matched face."""
    detector = KeypointDetector(model)
    size, mean = detector.crop_size, detector.mean_shape
    out = {"found": [], "shift": [], "scale": [], "shift2": [], "scale2": [], "rotation": [], "subset": []}
    clock = time.perf_counter()
    for n, (i, gray, faces) in enumerate(photos.iter_photos()):
        if n % every:
            continue
        true = photos.points[faces]
        truth = reframe(true, mean, size=size)
        frames, _ = detector.propose(gray)
        match = match_faces(np.c_[frames, frames[:, 2]], (1.0, 0.0, 0.0), np.c_[truth, truth[:, 2]])
        found = match >= 0
        out["found"].extend(found)
        out["subset"].extend(photos.subset[faces])
        out["rotation"].extend(eye_rotation(true, photos.layout))
        if not found.any():
            continue
        first = frames[match[found]]
        shift, scale = framing_errors(first, true[found], mean, size=size)
        crops, rounded = crop_frames(gray, first, size=size)
        pred = model.staged_predict(crops, n_stages=detector.framing_stages, check_input=False)[-1]
        second = reframe(to_photo(pred, rounded, size=size), mean, size=size)
        shift2, scale2 = framing_errors(second, true[found], mean, size=size)
        out["shift"].extend(shift), out["scale"].extend(scale)
        out["shift2"].extend(shift2), out["scale2"].extend(scale2)
        if n % (50 * every) == 0:
            log(f"photo {n}/{photos.n_photos}: {time.perf_counter() - clock:.0f} s")
    return {k: np.asarray(v) for k, v in out.items()}


def framing_report(m):
    found = m["found"].astype(bool)
    lines = ["# Face detector box noise on the 300-W training photos", "",
             f"Faces: {len(found)}; proposed (IoU >= 0.5 of crop squares): {found.mean():.1%}", ""]
    per_subset = {s: float(m["found"][m["subset"] == s].mean()) for s in np.unique(m["subset"])}
    lines.append("Found per subset: " + ", ".join(f"{s} {v:.1%}" for s, v in per_subset.items()))
    lines += ["", "| quantity | mean | std | 5% | 25% | 50% | 75% | 95% |", "|---|---|---|---|---|---|---|---|"]
    payload = {"found": float(found.mean()), "found_per_subset": per_subset}
    rows = [
        ("detector frame: centre dx / true side", m["shift"][:, 0]),
        ("detector frame: centre dy / true side", m["shift"][:, 1]),
        ("detector frame: log(side / true side)", np.log(m["scale"])),
        ("re-crop frame: centre dx / true side", m["shift2"][:, 0]),
        ("re-crop frame: centre dy / true side", m["shift2"][:, 1]),
        ("re-crop frame: log(side / true side)", np.log(m["scale2"])),
        ("true eyes' in-plane rotation (degrees)", m["rotation"]),
    ]
    for name, values in rows:
        s = _summary(values)
        payload[name] = s
        lines.append(f"| {name} | {s['mean']:+.4f} | {s['std']:.4f} | " + " | ".join(
            f"{s[f'q{int(q * 100):02d}']:+.4f}" for q in QUANTILES) + " |")
    return "\n".join(lines) + "\n", payload


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fr = sub.add_parser("framing", help="measure the face detector's box noise")
    fr.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "300w"))
    fr.add_argument("--every", type=int, default=1, help="measure every n-th photo")
    args = parser.parse_args(argv)
    from report import publish

    if args.command == "framing":
        photos = load_300w(args.data)
        model = load_default_model(layout="ibug68")
        m = measure_framing(photos, model, every=args.every)
        text, payload = framing_report(m)
        payload["command"] = " ".join(sys.argv)
        RESULTS.mkdir(parents=True, exist_ok=True)
        publish(RESULTS, "framing", text, payload)


if __name__ == "__main__":
    main()
