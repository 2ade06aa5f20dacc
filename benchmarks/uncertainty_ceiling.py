"""How far any error scale could rank a coordinate's error on faces96: the ceiling of issue 14's Spearman target.

    python benchmarks/uncertainty_ceiling.py --data ../shared/data/faces96 [--publish]

The default CascadeRegressor is scored in the benchmark's 5 GroupKFold folds by person, with
``predict(X, return_std=True)``, and its held-out errors ``e`` pooled over the folds. If each coordinate's
error is ``sigma * z``, with ``sigma`` what any predictor could know and ``z`` standard normal chance, then
``var(log|e|) = var(log sigma) + pi**2 / 8``: the spread of ``log|e|`` beyond that of ``log|z|`` bounds
the spread of every possible ``sigma``, and with it the Spearman correlation that even the true ``sigma``
would reach (simulated here for the measured spread). Three checks that need no such assumption are
printed beside it: the Spearman of the same point's ``|e_x|`` and ``|e_y|``, of each coordinate's own RMS
error over all faces (which keypoint and axis is harder), and of an oracle that knows the face's true
errors on all its other coordinates. Writes uncertainty_ceiling.md and .json to a run folder
(benchmarks/runs/<time>/, or benchmarks/results/ with --publish).
"""

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fkp_classic import CascadeRegressor  # noqa: E402
from fkp_classic.datasets import load_kaggle  # noqa: E402
from report import add_output_arguments, output_folder, publish  # noqa: E402

LOG_ABS_NORMAL_VARIANCE = np.pi**2 / 8
"""``var(log|z|)`` for a standard normal ``z``."""


def held_out_errors(X, y, groups, n_folds, layout):
    """The default cascade's held-out errors and predicted standard deviations, (n, 2K) each."""
    error, std = np.full_like(y, np.nan), np.full_like(y, np.nan)
    for train, test in GroupKFold(n_folds).split(X, y, groups):
        pred, std[test] = CascadeRegressor(layout=layout).fit(X[train], y[train]).predict(X[test], return_std=True)
        error[test] = pred - y[test]
    return error, std


def oracle_spearman(log_sigma_sd, n=400_000, seed=0):
    """Spearman of ``sigma`` and ``|sigma * z|`` when ``log sigma`` has this spread: the best any scale can do."""
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.normal(0.0, log_sigma_sd, n))
    return float(spearmanr(sigma, np.abs(sigma * rng.normal(size=n)))[0])


def ceiling(error, std):
    """The figures of the report, from held-out errors and the model's predicted standard deviations."""
    labelled = ~np.isnan(error)
    size = np.abs(error[labelled])
    spread = float(np.log(size).var())
    sigma_sd = float(np.sqrt(max(spread - LOG_ABS_NORMAL_VARIANCE, 0.0)))
    x, y = np.abs(error[:, 0::2]), np.abs(error[:, 1::2])
    both = ~np.isnan(x) & ~np.isnan(y)
    rms = np.broadcast_to(np.sqrt(np.nanmean(error**2, axis=0)), error.shape)[labelled]
    n_other = labelled.sum(axis=1, keepdims=True) - 1
    other = np.nansum(error**2, axis=1, keepdims=True) - np.where(labelled, error**2, 0.0)
    face_rms = np.sqrt(other / np.maximum(n_other, 1))[labelled]
    return {
        "coordinates": int(labelled.sum()),
        "var_log_abs_error": spread,
        "var_log_abs_normal": float(LOG_ABS_NORMAL_VARIANCE),
        "log_sigma_sd_at_most": sigma_sd,
        "oracle_spearman": oracle_spearman(sigma_sd),
        "model_spearman": float(spearmanr(std[labelled], size)[0]),
        "same_point_xy_spearman": float(spearmanr(x[both], y[both])[0]),
        "keypoint_rms_spearman": float(spearmanr(rms, size)[0]),
        "other_coordinates_oracle_spearman": float(spearmanr(face_rms, size)[0]),
    }


def report(result):
    r = result
    return "\n".join([
        "# The ceiling of the uncertainty ranking target (Spearman of y_std and |error| >= 0.35)",
        "",
        f"faces96, CascadeRegressor() in {r['folds']} GroupKFold folds by person, {r['coordinates']} held-out "
        f"coordinates; written {r['when']}.",
        "",
        "| what | value |",
        "|---|---|",
        f"| var(log abs error) | {r['var_log_abs_error']:.3f} |",
        f"| var(log abs z), z standard normal | {r['var_log_abs_normal']:.3f} |",
        f"| largest spread (s.d.) of log sigma this leaves | {r['log_sigma_sd_at_most']:.3f} |",
        f"| Spearman the true sigma would reach at that spread (simulated) | {r['oracle_spearman']:.3f} |",
        f"| Spearman of the cascade's y_std | {r['model_spearman']:.3f} |",
        f"| Spearman of a point's abs x error and abs y error | {r['same_point_xy_spearman']:.3f} |",
        f"| Spearman of each coordinate's own RMS error (which keypoint and axis) | {r['keypoint_rms_spearman']:.3f} |",
        f"| Spearman of an oracle knowing the face's true errors on its other coordinates | "
        f"{r['other_coordinates_oracle_spearman']:.3f} |",
        "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the faces96 folder (or its training.zip)")
    parser.add_argument("--folds", type=int, default=5, help="GroupKFold folds over people (default 5)")
    add_output_arguments(parser)
    args = parser.parse_args()
    out = output_folder(args)
    faces = load_kaggle(args.data)
    error, std = held_out_errors(faces.data, faces.target, faces.groups, args.folds, faces.layout)
    result = dict(ceiling(error, std), folds=args.folds,
                  when=datetime.now(timezone.utc).isoformat(timespec="minutes"))
    publish(out, "uncertainty_ceiling", report(result), result)


if __name__ == "__main__":
    main()
