"""The uncertainty benchmark: how well predict(X, return_std=True) knows its own errors, on people it never saw.

    python benchmarks/uncertainty.py --data ../shared/data [--publish] [--frame-folds 3]

Crops: faces96 in the benchmark's 5 GroupKFold folds by person. Each fold's CascadeRegressor() and
KeypointRegressor(uncertainty=True) (otherwise defaults) are fitted on the other people and predict the fold's faces with
``return_std=True``. Reported per estimator, pooled over the folds: the mean of ``(error / y_std)**2``
overall and for each keypoint (1 is calibrated), the share of coordinates with ``|error| <= 1.645 * y_std``
(a 90% interval) overall and per keypoint, the Spearman correlation of ``y_std`` and ``|error|`` over all
coordinates, and the time of ``predict(return_std=True)`` over plain ``predict`` (taking turns, best of 5
rounds), and of the fit with the error model over ``uncertainty=False``. The reliability plot bins the
coordinates by predicted ``y_std`` (deciles) and draws each bin's observed RMS error against its RMS
``y_std`` (on the diagonal when calibrated).

Frames: the photo path (``detect_keypoints``: HOG detector, keypoints, verifier) on the 3561 real frames
of ../shared/data/frames, split by person (GroupKFold, as benchmarks/photos.py: detector, verifier
and keypoint model trained per fold on the other people, with the same seeds). For every found face
(crop square IoU >= 0.5 with the truth) its ``Face.expected_nme`` is scored as a flag of failed faces
(true NME > 0.10): ROC AUC, and the failures caught and good faces flagged at a few thresholds.

Writes uncertainty.json, uncertainty.md, reliability.png and failure_roc.png to a run folder
(benchmarks/runs/<time>/, or benchmarks/results/ with --publish).
"""

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from fkp_classic import CascadeRegressor, KeypointRegressor  # noqa: E402
from fkp_classic.datasets import load_backgrounds, load_frames, load_kaggle  # noqa: E402
from fkp_classic.evaluation import match_faces  # noqa: E402
from fkp_classic.keypoints import KAGGLE_15  # noqa: E402
from fkp_classic.metrics import nme  # noqa: E402
from fkp_classic.photo import KeypointDetector, as_gray  # noqa: E402
from fkp_classic.utils import atomic_write  # noqa: E402
from train_face_detector import train as train_photo_parts  # noqa: E402
from report import add_output_arguments, output_folder  # noqa: E402

ESTIMATORS = {"CascadeRegressor": CascadeRegressor(), "KeypointRegressor": KeypointRegressor(uncertainty=True)}
FAILURE_NME = 0.10
FLAG_THRESHOLDS = (0.07, 0.08, 0.10)
TARGETS = {"mean_z2": (0.8, 1.25), "coverage": (0.87, 0.93), "spearman": 0.35, "auc": 0.90, "cost": 1.3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (faces96/ and frames/)")
    parser.add_argument("--folds", type=int, default=5, help="GroupKFold folds over faces96's people (default 5)")
    parser.add_argument("--frame-folds", type=int, default=3, help="GroupKFold folds over the frames' people "
                        "(default 3, as benchmarks/photos.py); 0 skips the frames")
    add_output_arguments(parser)
    args = parser.parse_args()
    out = output_folder(args)
    data = Path(args.data)
    crops = load_kaggle(data / "faces96")
    crop_results = crop_part(crops, args.folds)
    frame_result = frame_part(data, crops, args.frame_folds) if args.frame_folds else None
    report = _report(crop_results, frame_result, KAGGLE_15.names)
    print(report)
    _figures(crop_results, frame_result, out)
    with atomic_write(out / "uncertainty.md", "w") as fh:
        fh.write(report)
    payload = {"crops": {name: _summary(r) for name, r in crop_results.items()},
               "frames": None if frame_result is None else _flag_summary(frame_result),
               "folds": args.folds, "frame_folds": args.frame_folds,
               "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with atomic_write(out / "uncertainty.json", "w") as fh:
        json.dump(payload, fh, indent=1)
    print(f"wrote {out / 'uncertainty.md'}, uncertainty.json, reliability.png and failure_roc.png")


def crop_part(crops, n_folds):
    """Each estimator's held-out errors and predicted std on faces96 (grouped folds), and its time ratios."""
    results = {name: {"error": [], "std": [], "predict": [], "predict_std": [], "fit": [], "fit_plain": []}
               for name in ESTIMATORS}
    folds = GroupKFold(n_folds).split(crops.data, crops.target, crops.groups)
    for k, (train, test) in enumerate(folds):
        X, y = crops.data[test], crops.target[test]
        for name, estimator in ESTIMATORS.items():
            r = results[name]
            start = time.perf_counter()
            model = clone(estimator).set_params(layout=crops.layout).fit(crops.data[train], crops.target[train])
            r["fit"].append(time.perf_counter() - start)
            if k == 0:  # the error model's share of the fit, once
                start = time.perf_counter()
                clone(estimator).set_params(uncertainty=False, layout=crops.layout).fit(crops.data[train], crops.target[train])
                r["fit_plain"].append(time.perf_counter() - start)
            y_pred, y_std = model.predict(X, return_std=True)
            r["error"].append(y - y_pred)
            r["std"].append(y_std)
            plain, with_std = _turns(model, X)
            r["predict"].append(plain)
            r["predict_std"].append(with_std)
            print(f"fold {k} {name}: {_line(_summary(r, last=True))}", flush=True)
    return results


def _turns(model, X, rounds=5):
    """Best-of-``rounds`` seconds of ``predict(X)`` and ``predict(X, return_std=True)``, taking turns."""
    plain, with_std = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        model.predict(X)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.predict(X, return_std=True)
        with_std.append(time.perf_counter() - start)
    return min(plain), min(with_std)


def _summary(result, last=False):
    error = result["error"][-1] if last else np.concatenate(result["error"])
    std = result["std"][-1] if last else np.concatenate(result["std"])
    labelled = ~np.isnan(error)
    z2 = np.where(labelled, (error / std) ** 2, np.nan)
    inside = np.where(labelled, np.abs(error) <= 1.645 * std, np.nan)
    n = len(error)
    per_keypoint_z2 = np.nanmean(z2.reshape(n, -1, 2), axis=(0, 2))
    per_keypoint_coverage = np.nanmean(inside.reshape(n, -1, 2), axis=(0, 2))
    predict = np.sum(result["predict"][-1:] if last else result["predict"])
    predict_std = np.sum(result["predict_std"][-1:] if last else result["predict_std"])
    out = {
        "faces": n,
        "mean_z2": float(np.nanmean(z2)),
        "coverage": float(np.nanmean(inside)),
        "spearman": float(spearmanr(std[labelled], np.abs(error[labelled])).statistic),
        "per_keypoint_mean_z2": per_keypoint_z2.tolist(),
        "per_keypoint_coverage": per_keypoint_coverage.tolist(),
        "predict_cost": float(predict_std / predict),
        "rms_error": float(np.sqrt(np.nanmean(error**2))),
    }
    if result["fit_plain"]:
        out["fit_cost"] = float(result["fit"][0] / result["fit_plain"][0])
    return out


def _line(s):
    return (f"mean (error/std)^2 {s['mean_z2']:.3f}, within 1.645 std {s['coverage']:.3f}, "
            f"Spearman {s['spearman']:.3f}, predict with std {s['predict_cost']:.2f}x")


def frame_part(data, crops, n_folds):
    """Expected NME and true NME of every found face on the real frames (people unseen by every part)."""
    frames = load_frames(data / "frames", gray=False)
    grays = [np.round(as_gray(im) * 255).astype(np.uint8) for im in frames.images]
    backgrounds = load_backgrounds()
    expected, actual, fold_of = [], [], []
    for k, (train, test) in enumerate(GroupKFold(n_folds).split(grays, groups=frames.groups)):
        crop_train = np.flatnonzero(np.isin(crops.groups, list(set(frames.groups[train]))))
        model = CascadeRegressor(random_state=0, layout=crops.layout).fit(crops.data[crop_train], crops.target[crop_train])
        start = time.perf_counter()
        detector, verifier, _ = train_photo_parts(
            [grays[i] for i in train], frames.boxes[train], frames.keypoints[train], crops.data[crop_train],
            crops.target[crop_train], model, backgrounds, random_state=k,
        )
        print(f"frames fold {k}: detector and verifier trained in {time.perf_counter() - start:.0f} s", flush=True)
        pipeline = KeypointDetector(model, face_detector=detector, verifier=verifier)
        for i in test:
            faces = pipeline.detect(frames.images[i])
            boxes = np.array([f.box for f in faces]).reshape(-1, 4)
            match = match_faces(boxes, detector.framing, frames.boxes[i][None])[0]
            if match >= 0:
                face = faces[match]
                expected.append(face.expected_nme)
                actual.append(nme(frames.keypoints[i][None], face.points.reshape(1, -1), layout=face.layout)[0])
                fold_of.append(k)
        print(f"frames folds 0-{k}: {_flag_line(_flag_summary((expected, actual, fold_of)))}", flush=True)
    return np.array(expected), np.array(actual), np.array(fold_of)


def _flag_summary(result):
    expected, actual, fold_of = (np.asarray(v) for v in result)
    failed = actual > FAILURE_NME
    out = {"faces": int(len(actual)), "failures": int(failed.sum()),
           "auc": float(roc_auc_score(failed, expected)) if 0 < failed.sum() < len(failed) else None,
           "auc_per_fold": [float(roc_auc_score(failed[fold_of == k], expected[fold_of == k]))
                            for k in np.unique(fold_of) if 0 < failed[fold_of == k].sum() < (fold_of == k).sum()],
           "mean_expected_nme": float(expected.mean()), "mean_nme": float(actual.mean()),
           "spearman": float(spearmanr(expected, actual).statistic),
           "thresholds": {f"{t:g}": {"failures_caught": float(np.mean(expected[failed] > t)) if failed.any() else None,
                                     "good_flagged": float(np.mean(expected[~failed] > t))}
                          for t in FLAG_THRESHOLDS}}
    return out


def _flag_line(s):
    auc = "n/a" if s["auc"] is None else f"{s['auc']:.3f}"
    return f"{s['faces']} found faces, {s['failures']} with NME > {FAILURE_NME}: ROC AUC of expected_nme {auc}"


def _met(value, target):
    if isinstance(target, tuple):
        return "met" if target[0] <= value <= target[1] else "missed"
    return "met" if value >= target else "missed"


def _report(crop_results, frame_result, names):
    lines = ["# Uncertainty: predict(X, return_std=True) on people the model never saw", "",
             f"faces96, GroupKFold by person, held-out faces pooled over the folds; written "
             f"{datetime.now(timezone.utc).isoformat(timespec='minutes')}.", "",
             "| estimator | faces | mean (error/std)^2 | within 1.645 std | Spearman(std, abs error) | "
             "predict with std / plain | fit with error model / without |",
             "|---|---|---|---|---|---|---|"]
    summaries = {name: _summary(r) for name, r in crop_results.items()}
    for name, s in summaries.items():
        fit = f"{s['fit_cost']:.2f}x" if "fit_cost" in s else "n/a"
        lines.append(f"| {name} | {s['faces']} | {s['mean_z2']:.3f} | {s['coverage']:.3f} | {s['spearman']:.3f} | "
                     f"{s['predict_cost']:.2f}x | {fit} |")
    first = next(iter(summaries))
    keypoints = len(summaries[first]["per_keypoint_mean_z2"])
    names = names or [f"keypoint {k}" for k in range(keypoints)]
    lines += ["", "Per keypoint (mean (error/std)^2 / within 1.645 std):", "",
              "| keypoint | " + " | ".join(summaries) + " |", "|---|" + "---|" * len(summaries)]
    for k in range(keypoints):
        lines.append(f"| {names[k]} | " + " | ".join(
            f"{s['per_keypoint_mean_z2'][k]:.2f} / {s['per_keypoint_coverage'][k]:.3f}" for s in summaries.values()) + " |")
    s = summaries[first]
    z2_low, z2_high = min(s["per_keypoint_mean_z2"]), max(s["per_keypoint_mean_z2"])
    lines += ["", f"Targets ({first}):",
              f"- calibration: mean (error/std)^2 {s['mean_z2']:.3f} overall, {z2_low:.2f}-{z2_high:.2f} per keypoint "
              f"(0.8-1.25): {'met' if all(_met(v, TARGETS['mean_z2']) == 'met' for v in (s['mean_z2'], z2_low, z2_high)) else 'missed'};",
              f"- within 1.645 std: {s['coverage']:.3f} of coordinates (0.87-0.93): {_met(s['coverage'], TARGETS['coverage'])};",
              f"- ranking: Spearman {s['spearman']:.3f} (at least 0.35): {_met(s['spearman'], TARGETS['spearman'])};",
              f"- cost: predict with std {s['predict_cost']:.2f}x plain (at most 1.3x): "
              f"{'met' if s['predict_cost'] <= TARGETS['cost'] else 'missed'};"]
    if frame_result is not None:
        f = _flag_summary(frame_result)
        lines += [f"- failure flag on real frames: ROC AUC {f['auc']:.3f} (at least 0.90): {_met(f['auc'], TARGETS['auc'])}.",
                  "", "## Failure flag on real frames (detect_keypoints, people unseen by every part)", "",
                  f"{_flag_line(f)} (per fold: {', '.join(f'{a:.3f}' for a in f['auc_per_fold'])}); mean expected NME "
                  f"{f['mean_expected_nme']:.4f} against a true mean NME of {f['mean_nme']:.4f}; Spearman of the two "
                  f"{f['spearman']:.3f}.", "",
                  "| flag: expected_nme above | failures caught | good faces flagged |", "|---|---|---|"]
        for t, v in f["thresholds"].items():
            caught = "n/a" if v["failures_caught"] is None else f"{v['failures_caught']:.1%}"
            lines.append(f"| {t} | {caught} | {v['good_flagged']:.1%} |")
    return "\n".join(lines) + "\n"


def _figures(crop_results, frame_result, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    top = 0
    for name, r in crop_results.items():
        error, std = np.concatenate(r["error"]).ravel(), np.concatenate(r["std"]).ravel()
        keep = ~np.isnan(error)
        error, std = error[keep], std[keep]
        edges = np.quantile(std, np.linspace(0, 1, 11))
        which = np.clip(np.searchsorted(edges, std, side="right") - 1, 0, 9)
        predicted = [np.sqrt(np.mean(std[which == b] ** 2)) for b in range(10)]
        observed = [np.sqrt(np.mean(error[which == b] ** 2)) for b in range(10)]
        ax.plot(predicted, observed, "o-", label=name)
        top = max(top, max(predicted), max(observed))
    ax.plot([0, top * 1.05], [0, top * 1.05], "k--", lw=1, label="calibrated")
    ax.set_xlabel("predicted std (RMS in the decile of y_std), px")
    ax.set_ylabel("observed RMS error, px")
    ax.set_title("Reliability on unseen people (faces96, grouped CV)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=110)
    plt.close(fig)
    if frame_result is not None:
        expected, actual, _ = frame_result
        failed = actual > FAILURE_NME
        fpr, tpr, _ = roc_curve(failed, expected)
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.plot(fpr, tpr, label=f"expected_nme (AUC {roc_auc_score(failed, expected):.3f})")
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set_xlabel("good faces flagged")
        ax.set_ylabel(f"failures (NME > {FAILURE_NME}) caught")
        ax.set_title("Failure flag on real frames of unseen people")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(out / "failure_roc.png", dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    main()
